/**
 * `Subscription.chatCompletionStream`: one `ChatCompletionChunk` per upstream chunk, in order.
 * When the client goes away the upstream request is aborted at once, not at the next chunk.
 */
import type { ChatCompletionChunk, ToolCallDelta } from '../providers/types.js';
import { builder } from './builder.js';
import { roleOf, textOf, UsageRef } from './chat.js';
import { ChatCompletionInput, ChatRoleEnum, toChatRequest } from './chat-input.js';

const FunctionCallDeltaRef = builder.objectRef<NonNullable<ToolCallDelta['function']>>('FunctionCallDelta').implement({
  fields: (t) => ({
    name: t.string({ nullable: true, resolve: (f) => f.name ?? null }),
    arguments: t.string({ nullable: true, resolve: (f) => f.arguments ?? null }),
  }),
});

const ToolCallDeltaRef = builder.objectRef<ToolCallDelta>('ToolCallDelta').implement({
  fields: (t) => ({
    index: t.int({ resolve: (d) => d.index ?? 0 }),
    id: t.id({ nullable: true, resolve: (d) => d.id ?? null }),
    type: t.string({ nullable: true, resolve: (d) => d.type ?? null }),
    function: t.field({ type: FunctionCallDeltaRef, nullable: true, resolve: (d) => d.function ?? null }),
  }),
});

type Delta = ChatCompletionChunk['choices'][number]['delta'];

const ChatDeltaRef = builder.objectRef<Delta>('ChatDelta').implement({
  fields: (t) => ({
    role: t.field({ type: ChatRoleEnum, nullable: true, resolve: (d) => (d.role ? roleOf(d.role) : null) }),
    content: t.string({ nullable: true, resolve: (d) => textOf(d.content) }),
    toolCalls: t.field({ type: [ToolCallDeltaRef], nullable: true, resolve: (d) => d.tool_calls ?? null }),
    reasoning: t.string({ nullable: true, resolve: (d) => d.reasoning ?? d.reasoning_content ?? null }),
  }),
});

type ChunkChoice = ChatCompletionChunk['choices'][number];

const ChatChunkChoiceRef = builder.objectRef<ChunkChoice>('ChatChunkChoice').implement({
  fields: (t) => ({
    index: t.int({ resolve: (c) => c.index ?? 0 }),
    delta: t.field({ type: ChatDeltaRef, resolve: (c) => c.delta ?? {} }),
    finishReason: t.string({ nullable: true, resolve: (c) => c.finish_reason ?? null }),
  }),
});

interface ChunkResult {
  chunk: ChatCompletionChunk;
  provider: string;
}

const ChatCompletionChunkRef = builder.objectRef<ChunkResult>('ChatCompletionChunk').implement({
  fields: (t) => ({
    id: t.id({ resolve: (r) => r.chunk.id }),
    model: t.string({ resolve: (r) => r.chunk.model }),
    provider: t.string({ resolve: (r) => r.provider }),
    choices: t.field({ type: [ChatChunkChoiceRef], resolve: (r) => r.chunk.choices }),
    usage: t.field({ type: UsageRef, nullable: true, resolve: (r) => r.chunk.usage ?? null }),
  }),
});

builder.subscriptionFields((t) => ({
  chatCompletionStream: t.field({
    type: ChatCompletionChunkRef,
    description: 'A streamed chat completion: one event per chunk, the last one carrying usage.',
    args: { input: t.arg({ type: ChatCompletionInput, required: true }) },
    subscribe: async (_root, { input }, ctx) => {
      // Our own controller: an async generator's return() waits for the pending read, abort() does not.
      const controller = new AbortController();
      const onClientGone = () => controller.abort(ctx.signal.reason);
      ctx.signal.addEventListener('abort', onClientGone, { once: true });
      try {
        const { provider, chunks } = await ctx.gateway.chatStream(toChatRequest(input), input.provider, { ...ctx, signal: controller.signal });
        return cancellable(chunks, provider.id, controller, () => ctx.signal.removeEventListener('abort', onClientGone));
      } catch (error) {
        ctx.signal.removeEventListener('abort', onClientGone);
        throw error;
      }
    },
    resolve: (result: ChunkResult) => result,
  }),
}));

function cancellable(
  chunks: AsyncGenerator<{ chunk: ChatCompletionChunk }>,
  provider: string,
  controller: AbortController,
  cleanup: () => void,
): AsyncIterableIterator<ChunkResult> {
  const finish = (): IteratorReturnResult<undefined> => {
    cleanup();
    return { done: true, value: undefined };
  };
  return {
    async next() {
      try {
        const step = await chunks.next();
        if (step.done) return finish();
        return { done: false, value: { chunk: step.value.chunk, provider } };
      } catch (error) {
        finish();
        throw error;
      }
    },
    async return() {
      controller.abort();
      // Don't wait for the generator: the abort makes its pending read fail and it winds down by itself.
      chunks.return(undefined).catch(() => {});
      return finish();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
