/**
 * `Subscription.chatCompletionStream`: one `ChatCompletionChunk` per upstream chunk, in order.
 * When the client goes away the upstream request is aborted at once, not at the next chunk.
 */
import type { ChatCompletionChunk, ToolCallDelta } from '../providers/types.js';
import { builder } from './builder.js';
import { roleOf, stringOrNull, textOf, UsageRef } from './chat.js';
import { JSONScalar } from './scalars.js';
import { ChatCompletionInput, ChatRoleEnum, toChatRequest } from './chat-input.js';

const FunctionCallDeltaRef = builder.objectRef<NonNullable<ToolCallDelta['function']>>('FunctionCallDelta').implement({
  description: "A piece of a function call: the name comes first, the arguments' JSON text in pieces.",
  fields: (t) => ({
    name: t.string({ nullable: true, description: 'The function, in the first piece.', resolve: (f) => f.name ?? null }),
    arguments: t.string({ nullable: true, description: 'The next piece of the arguments text.', resolve: (f) => f.arguments ?? null }),
  }),
});

const ToolCallDeltaRef = builder.objectRef<ToolCallDelta>('ToolCallDelta').implement({
  description: 'A piece of a tool call; pieces with the same index belong together.',
  fields: (t) => ({
    index: t.int({ description: 'Which tool call this piece belongs to.', resolve: (d) => d.index ?? 0 }),
    id: t.id({ nullable: true, description: 'The call id, in the first piece.', resolve: (d) => d.id ?? null }),
    type: t.string({ nullable: true, description: '"function", in the first piece.', resolve: (d) => d.type ?? null }),
    function: t.field({ type: FunctionCallDeltaRef, nullable: true, description: 'The piece of the function call.', resolve: (d) => d.function ?? null }),
  }),
});

type Delta = ChatCompletionChunk['choices'][number]['delta'];

const ChatDeltaRef = builder.objectRef<Delta>('ChatDelta').implement({
  description: "What one chunk adds to the model's message.",
  fields: (t) => ({
    role: t.field({ type: ChatRoleEnum, nullable: true, description: 'ASSISTANT, in the first chunk.', resolve: (d) => (d.role ? roleOf(d.role) : null) }),
    content: t.string({ nullable: true, description: 'The next piece of text.', resolve: (d) => textOf(d.content) }),
    refusal: t.string({ nullable: true, description: 'The next piece of a refusal.', resolve: (d) => stringOrNull(d.refusal) }),
    toolCalls: t.field({ type: [ToolCallDeltaRef], nullable: true, description: 'Pieces of tool calls.', resolve: (d) => d.tool_calls ?? null }),
    reasoning: t.string({
      nullable: true,
      description: 'The next piece of visible reasoning, where the provider streams it.',
      resolve: (d) => d.reasoning ?? d.reasoning_content ?? null,
    }),
  }),
});

type ChunkChoice = ChatCompletionChunk['choices'][number];

const ChatChunkChoiceRef = builder.objectRef<ChunkChoice>('ChatChunkChoice').implement({
  description: "One chunk's piece of one alternative answer.",
  fields: (t) => ({
    index: t.int({ description: 'Which answer (of `n`).', resolve: (c) => c.index ?? 0 }),
    delta: t.field({ type: ChatDeltaRef, description: 'What this chunk adds.', resolve: (c) => c.delta ?? {} }),
    finishReason: t.string({ nullable: true, description: 'Set in the answer\'s last chunk: why it stopped.', resolve: (c) => c.finish_reason ?? null }),
    logprobs: t.field({
      type: JSONScalar,
      nullable: true,
      description: "With `logprobs: true`: the log probabilities of this chunk's tokens, as the provider sends them.",
      resolve: (c) => c.logprobs ?? null,
    }),
  }),
});

interface ChunkResult {
  chunk: ChatCompletionChunk;
  provider: string;
}

const ChatCompletionChunkRef = builder.objectRef<ChunkResult>('ChatCompletionChunk').implement({
  description: 'One chunk of a streamed chat completion.',
  fields: (t) => ({
    id: t.id({ description: "The completion's id (the same in every chunk).", resolve: (r) => r.chunk.id }),
    model: t.string({ description: 'The model that answers.', resolve: (r) => r.chunk.model }),
    provider: t.string({ description: 'The provider that answers (after any fallback).', resolve: (r) => r.provider }),
    choices: t.field({ type: [ChatChunkChoiceRef], description: 'Pieces of the answers (empty in the usage chunk).', resolve: (r) => r.chunk.choices }),
    usage: t.field({ type: UsageRef, nullable: true, description: 'Set in the last chunk: tokens used.', resolve: (r) => r.chunk.usage ?? null }),
    systemFingerprint: t.string({
      nullable: true,
      description: 'The backend configuration that serves it (`system_fingerprint`).',
      resolve: (r) => stringOrNull(r.chunk.system_fingerprint),
    }),
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
