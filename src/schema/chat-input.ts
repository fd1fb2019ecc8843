/** The chat input types, and their translation into an OpenAI chat request for the provider layer. */
import { BadRequestError } from '../errors.js';
import type { ChatMessage, ChatRequest } from '../providers/types.js';
import { builder } from './builder.js';
import { JSONScalar } from './scalars.js';

export const ChatRoleEnum = builder.enumType('ChatRole', {
  values: {
    SYSTEM: { value: 'system' },
    DEVELOPER: { value: 'developer' },
    USER: { value: 'user' },
    ASSISTANT: { value: 'assistant' },
    TOOL: { value: 'tool' },
  } as const,
});

const FunctionCallInput = builder.inputType('FunctionCallInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    arguments: t.string({ required: true, description: 'The arguments as a JSON text, as the model produced them.' }),
  }),
});

const ToolCallInput = builder.inputType('ToolCallInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    type: t.string({ required: true }),
    function: t.field({ type: FunctionCallInput, required: true }),
  }),
});

const ChatMessageInput = builder.inputType('ChatMessageInput', {
  fields: (t) => ({
    role: t.field({ type: ChatRoleEnum, required: true }),
    content: t.string(),
    name: t.string(),
    toolCallId: t.string({ description: 'For role TOOL: the id of the tool call this message answers.' }),
    toolCalls: t.field({ type: [ToolCallInput], description: 'For role ASSISTANT: the tool calls it made.' }),
  }),
});

const FunctionInput = builder.inputType('FunctionInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    parameters: t.field({ type: JSONScalar, description: 'JSON Schema of the arguments.' }),
  }),
});

const ToolInput = builder.inputType('ToolInput', {
  fields: (t) => ({
    type: t.string({ required: true }),
    function: t.field({ type: FunctionInput, required: true }),
  }),
});

export const ChatCompletionInput = builder.inputType('ChatCompletionInput', {
  fields: (t) => ({
    model: t.string({ required: true, description: '"provider/model", or a bare model name together with `provider`.' }),
    provider: t.string(),
    messages: t.field({ type: [ChatMessageInput], required: true }),
    temperature: t.float(),
    topP: t.float(),
    maxTokens: t.int(),
    stop: t.stringList(),
    seed: t.int(),
    tools: t.field({ type: [ToolInput] }),
    toolChoice: t.string({ description: '"auto", "none", "required", or the name of a function to call.' }),
  }),
});

export type ChatInput = typeof ChatCompletionInput.$inferInput;

/** Limits that keep one request from tying up the gateway; REST has the body-size limit instead. */
export const INPUT_LIMITS = { messages: 1000, contentChars: 1_000_000, tools: 128 } as const;

export function toChatRequest(input: ChatInput): ChatRequest {
  if (input.messages.length === 0) throw new BadRequestError('messages must not be empty');
  if (input.messages.length > INPUT_LIMITS.messages) {
    throw new BadRequestError(`messages has ${input.messages.length} entries; the limit is ${INPUT_LIMITS.messages}`);
  }
  if ((input.tools?.length ?? 0) > INPUT_LIMITS.tools) throw new BadRequestError(`tools is limited to ${INPUT_LIMITS.tools} entries`);
  let chars = 0;
  const messages = input.messages.map((m, i): ChatMessage => {
    chars += m.content?.length ?? 0;
    if (m.role === 'tool' && !m.toolCallId) throw new BadRequestError(`messages[${i}] has role TOOL but no toolCallId`);
    const message: ChatMessage = { role: m.role, content: m.content ?? null };
    if (m.name != null) message.name = m.name;
    if (m.toolCallId != null) message.tool_call_id = m.toolCallId;
    if (m.toolCalls != null) {
      message.tool_calls = m.toolCalls.map((c) => ({ id: String(c.id), type: c.type, function: { name: c.function.name, arguments: c.function.arguments } }));
    }
    return message;
  });
  if (chars > INPUT_LIMITS.contentChars) {
    throw new BadRequestError(`message content totals ${chars} characters; the limit is ${INPUT_LIMITS.contentChars}`);
  }
  const request: ChatRequest = { model: input.model, messages };
  if (input.temperature != null) request.temperature = input.temperature;
  if (input.topP != null) request.top_p = input.topP;
  if (input.maxTokens != null) request.max_tokens = input.maxTokens;
  if (input.stop != null) request.stop = input.stop;
  if (input.seed != null) request.seed = input.seed;
  if (input.tools != null) {
    request.tools = input.tools.map((tool) => ({
      type: tool.type,
      function: {
        name: tool.function.name,
        ...(tool.function.description != null && { description: tool.function.description }),
        ...(tool.function.parameters != null && { parameters: tool.function.parameters }),
      },
    }));
  }
  if (input.toolChoice != null) {
    request.tool_choice = ['auto', 'none', 'required'].includes(input.toolChoice)
      ? input.toolChoice
      : { type: 'function', function: { name: input.toolChoice } };
  }
  return request;
}
