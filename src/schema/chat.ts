/** Chat completions: the output types and `Mutation.chatCompletion`. */
import type { ChatCompletion, ChatMessage, ToolCall, Usage } from '../providers/types.js';
import { unixSeconds } from '../json-limits.js';
import { builder } from './builder.js';
import { ChatCompletionInput, ChatRoleEnum, toChatRequest } from './chat-input.js';
import { JSONScalar } from './scalars.js';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
/** Upstreams sometimes invent roles ("model"); what comes back from a model is the assistant. */
export const roleOf = (role: unknown) => (typeof role === 'string' && ROLES.has(role) ? role : 'assistant') as 'assistant';

type TokenDetails = { cached_tokens?: unknown; reasoning_tokens?: unknown } | undefined;
const countOf = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? value : null);

export const UsageRef = builder.objectRef<Usage>('Usage').implement({
  description: 'Tokens the call used, as the provider counted them.',
  fields: (t) => ({
    promptTokens: t.int({ description: 'Tokens of the input.', resolve: (u) => u.prompt_tokens ?? 0 }),
    completionTokens: t.int({ description: 'Tokens generated, reasoning tokens included.', resolve: (u) => u.completion_tokens ?? 0 }),
    totalTokens: t.int({ description: 'Both.', resolve: (u) => u.total_tokens ?? (u.prompt_tokens ?? 0) + (u.completion_tokens ?? 0) }),
    cachedTokens: t.int({
      nullable: true,
      description: 'Of the prompt tokens, how many came from the provider\'s prompt cache (`prompt_tokens_details.cached_tokens`); null when not reported.',
      resolve: (u) => countOf((u.prompt_tokens_details as TokenDetails)?.cached_tokens),
    }),
    reasoningTokens: t.int({
      nullable: true,
      description: 'Of the completion tokens, how many the model spent reasoning (`completion_tokens_details.reasoning_tokens`); null when not reported.',
      resolve: (u) => countOf((u.completion_tokens_details as TokenDetails)?.reasoning_tokens),
    }),
  }),
});

const FunctionCallRef = builder.objectRef<ToolCall['function']>('FunctionCall').implement({
  description: 'A function the model wants called.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Which function.' }),
    arguments: t.exposeString('arguments', { description: 'Its arguments as a JSON text (parse it; models can produce invalid JSON).' }),
  }),
});

const ToolCallRef = builder.objectRef<ToolCall>('ToolCall').implement({
  description: 'A tool call the model made; answer it with a TOOL message naming its id.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The call id, for the TOOL message that answers it.' }),
    type: t.string({ description: 'Always "function" today.', resolve: (c) => c.type ?? 'function' }),
    function: t.field({ type: FunctionCallRef, description: 'The function and arguments.', resolve: (c) => c.function }),
  }),
});

const ChatMessageRef = builder.objectRef<ChatMessage>('ChatMessage').implement({
  description: "The model's message.",
  fields: (t) => ({
    role: t.field({ type: ChatRoleEnum, description: 'ASSISTANT.', resolve: (m) => roleOf(m.role) }),
    content: t.string({ nullable: true, description: 'The text of the answer (null when the model only called tools).', resolve: (m) => textOf(m.content) }),
    refusal: t.string({
      nullable: true,
      description: 'Why the model declined to answer, when it did (with structured outputs the refusal comes here, not in content).',
      resolve: (m) => (typeof m.refusal === 'string' ? m.refusal : null),
    }),
    toolCalls: t.field({ type: [ToolCallRef], nullable: true, description: 'Tools the model wants called.', resolve: (m) => m.tool_calls ?? null }),
    reasoning: t.string({
      nullable: true,
      description: "A reasoning model's visible reasoning, where the provider returns it (`reasoning` or `reasoning_content`).",
      resolve: (m) => m.reasoning ?? m.reasoning_content ?? null,
    }),
  }),
});

type Choice = ChatCompletion['choices'][number];

const ChatChoiceRef = builder.objectRef<Choice>('ChatChoice').implement({
  description: 'One alternative answer (there are `n` of them).',
  fields: (t) => ({
    index: t.int({ description: 'Its position.', resolve: (c) => c.index ?? 0 }),
    message: t.field({ type: ChatMessageRef, description: 'The answer.', resolve: (c) => c.message }),
    finishReason: t.string({
      nullable: true,
      description: 'Why generation stopped: "stop", "length", "tool_calls", "content_filter", …',
      resolve: (c) => c.finish_reason ?? null,
    }),
    logprobs: t.field({
      type: JSONScalar,
      nullable: true,
      description: "With `logprobs: true`: the provider's logprobs object (`{content: [{token, logprob, top_logprobs}], refusal}`).",
      resolve: (c) => c.logprobs ?? null,
    }),
  }),
});

export interface CompletionResult {
  completion: ChatCompletion;
  provider: string;
}

const ChatCompletionRef = builder.objectRef<CompletionResult>('ChatCompletion').implement({
  description: 'A chat completion.',
  fields: (t) => ({
    id: t.id({ description: "The provider's id for it.", resolve: (r) => r.completion.id }),
    model: t.string({ description: 'The model that answered, as the provider names it.', resolve: (r) => r.completion.model }),
    provider: t.string({ description: 'The provider that answered (after any fallback).', resolve: (r) => r.provider }),
    created: t.int({ description: 'Unix seconds.', resolve: (r) => unixSeconds(r.completion.created) ?? Math.floor(Date.now() / 1000) }),
    choices: t.field({ type: [ChatChoiceRef], description: 'The answers.', resolve: (r) => r.completion.choices }),
    usage: t.field({ type: UsageRef, nullable: true, description: 'Tokens used, when the provider reports them.', resolve: (r) => r.completion.usage ?? null }),
    systemFingerprint: t.string({
      nullable: true,
      description: 'The backend configuration that served it (`system_fingerprint`), to tell when a change may affect repeatability with `seed`.',
      resolve: (r) => stringOrNull(r.completion.system_fingerprint),
    }),
  }),
});

export const stringOrNull = (value: unknown) => (typeof value === 'string' ? value : null);

builder.mutationFields((t) => ({
  chatCompletion: t.field({
    type: ChatCompletionRef,
    // Nullable: in a document with several aliased calls, one failure leaves the others' answers —
    // already paid for — in data, the failure in errors with its path.
    nullable: true,
    description: 'One chat completion from the provider the model names (null, with an error, when it failed).',
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
