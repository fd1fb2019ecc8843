/** Chat completions: the output types and `Mutation.chatCompletion`. */
import type { ChatCompletion, ChatMessage, ToolCall, Usage } from '../providers/types.js';
import { unixSeconds } from '../json-limits.js';
import { builder } from './builder.js';
import { ChatCompletionInput, ChatRoleEnum, toChatRequest } from './chat-input.js';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
/** Upstreams sometimes invent roles ("model"); what comes back from a model is the assistant. */
export const roleOf = (role: unknown) => (typeof role === 'string' && ROLES.has(role) ? role : 'assistant') as 'assistant';

export const UsageRef = builder.objectRef<Usage>('Usage').implement({
  fields: (t) => ({
    promptTokens: t.int({ resolve: (u) => u.prompt_tokens ?? 0 }),
    completionTokens: t.int({ resolve: (u) => u.completion_tokens ?? 0 }),
    totalTokens: t.int({ resolve: (u) => u.total_tokens ?? (u.prompt_tokens ?? 0) + (u.completion_tokens ?? 0) }),
  }),
});

const FunctionCallRef = builder.objectRef<ToolCall['function']>('FunctionCall').implement({
  fields: (t) => ({ name: t.exposeString('name'), arguments: t.exposeString('arguments') }),
});

const ToolCallRef = builder.objectRef<ToolCall>('ToolCall').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.string({ resolve: (c) => c.type ?? 'function' }),
    function: t.field({ type: FunctionCallRef, resolve: (c) => c.function }),
  }),
});

const ChatMessageRef = builder.objectRef<ChatMessage>('ChatMessage').implement({
  fields: (t) => ({
    role: t.field({ type: ChatRoleEnum, resolve: (m) => roleOf(m.role) }),
    content: t.string({ nullable: true, resolve: (m) => textOf(m.content) }),
    toolCalls: t.field({ type: [ToolCallRef], nullable: true, resolve: (m) => m.tool_calls ?? null }),
    reasoning: t.string({ nullable: true, resolve: (m) => m.reasoning ?? m.reasoning_content ?? null }),
  }),
});

type Choice = ChatCompletion['choices'][number];

const ChatChoiceRef = builder.objectRef<Choice>('ChatChoice').implement({
  fields: (t) => ({
    index: t.int({ resolve: (c) => c.index ?? 0 }),
    message: t.field({ type: ChatMessageRef, resolve: (c) => c.message }),
    finishReason: t.string({ nullable: true, resolve: (c) => c.finish_reason ?? null }),
  }),
});

export interface CompletionResult {
  completion: ChatCompletion;
  provider: string;
}

const ChatCompletionRef = builder.objectRef<CompletionResult>('ChatCompletion').implement({
  fields: (t) => ({
    id: t.id({ resolve: (r) => r.completion.id }),
    model: t.string({ resolve: (r) => r.completion.model }),
    provider: t.string({ resolve: (r) => r.provider }),
    created: t.int({ resolve: (r) => unixSeconds(r.completion.created) ?? Math.floor(Date.now() / 1000) }),
    choices: t.field({ type: [ChatChoiceRef], resolve: (r) => r.completion.choices }),
    usage: t.field({ type: UsageRef, nullable: true, resolve: (r) => r.completion.usage ?? null }),
  }),
});

builder.mutationFields((t) => ({
  chatCompletion: t.field({
    type: ChatCompletionRef,
    description: 'One chat completion from the provider the model names.',
    args: { input: t.arg({ type: ChatCompletionInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { provider, completion } = await ctx.gateway.chat(toChatRequest(input), input.provider, ctx);
      return { provider: provider.id, completion };
    },
  }),
}));

/** OpenAI allows content as an array of parts; GraphQL's content is the text of them. */
export function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
  }
  return null;
}
