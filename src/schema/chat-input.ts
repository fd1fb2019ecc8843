/** The chat input types, and their translation into an OpenAI chat request for the provider layer. */
import { BadRequestError } from '../errors.js';
import type { ChatMessage, ChatRequest } from '../providers/types.js';
import { builder } from './builder.js';
import { ContentPartInput, textLength, toWireParts } from './content-parts.js';
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
  description: 'A function call an assistant message made.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'The function called.' }),
    arguments: t.string({ required: true, description: 'The arguments as a JSON text, as the model produced them.' }),
  }),
});

const ToolCallInput = builder.inputType('ToolCallInput', {
  description: 'A tool call an assistant message made, given back in the conversation.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The id the model gave the call; the TOOL message answering it names it as toolCallId.' }),
    type: t.string({ required: true, description: 'Always "function" today.' }),
    function: t.field({ type: FunctionCallInput, required: true, description: 'The function and its arguments.' }),
  }),
});

const ChatMessageInput = builder.inputType('ChatMessageInput', {
  description: 'One message of the conversation.',
  fields: (t) => ({
    role: t.field({ type: ChatRoleEnum, required: true, description: 'Who speaks.' }),
    content: t.string({ description: 'Plain text. Give `content` or `parts`, not both.' }),
    parts: t.field({
      type: [ContentPartInput],
      description: 'Multimodal content — text, images, audio, files — in order. Give `content` or `parts`, not both.',
    }),
    name: t.string({ description: 'A name for the speaker, to tell participants of the same role apart.' }),
    toolCallId: t.string({ description: 'For role TOOL: the id of the tool call this message answers.' }),
    toolCalls: t.field({ type: [ToolCallInput], description: 'For role ASSISTANT: the tool calls it made.' }),
  }),
});

const FunctionInput = builder.inputType('FunctionInput', {
  description: 'A function the model may call.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Its name, as the model will call it.' }),
    description: t.string({ description: 'What it does, for the model to decide when to call it.' }),
    parameters: t.field({ type: JSONScalar, description: 'JSON Schema of the arguments.' }),
  }),
});

const ToolInput = builder.inputType('ToolInput', {
  description: 'A tool the model may use.',
  fields: (t) => ({
    type: t.string({ required: true, description: 'Always "function" today.' }),
    function: t.field({ type: FunctionInput, required: true, description: 'The function.' }),
  }),
});

const ReasoningEffortEnum = builder.enumType('ReasoningEffort', {
  description: 'How much a reasoning model thinks before it answers (OpenAI `reasoning_effort`); providers support a subset.',
  values: {
    NONE: { value: 'none', description: 'No reasoning.' },
    MINIMAL: { value: 'minimal', description: 'As little as the model allows.' },
    LOW: { value: 'low', description: 'Quick.' },
    MEDIUM: { value: 'medium', description: "The models' usual default." },
    HIGH: { value: 'high', description: 'Thorough.' },
    XHIGH: { value: 'xhigh', description: 'As much as the model allows.' },
  } as const,
});

const ResponseFormatTypeEnum = builder.enumType('ResponseFormatType', {
  description: 'The shape of the answer.',
  values: {
    TEXT: { value: 'text', description: 'Free text (the default).' },
    JSON_OBJECT: { value: 'json_object', description: 'Some JSON object (tell the model which in the prompt).' },
    JSON_SCHEMA: { value: 'json_schema', description: 'JSON that follows `jsonSchema` (structured outputs).' },
  } as const,
});

const JsonSchemaFormatInput = builder.inputType('JsonSchemaFormatInput', {
  description: 'The JSON Schema an answer must follow (OpenAI `response_format.json_schema`).',
  fields: (t) => ({
    name: t.string({ required: true, description: 'A name for the format: letters, digits, _ and -.' }),
    schema: t.field({ type: JSONScalar, required: true, description: 'The JSON Schema.' }),
    strict: t.boolean({ description: 'Follow the schema exactly (OpenAI structured outputs), where the provider can.' }),
    description: t.string({ description: 'What the format is for, for the model.' }),
  }),
});

const ResponseFormatInput = builder.inputType('ResponseFormatInput', {
  description: 'Ask for plain text, any JSON object, or JSON following a schema.',
  fields: (t) => ({
    type: t.field({ type: ResponseFormatTypeEnum, required: true, description: 'Which.' }),
    jsonSchema: t.field({ type: JsonSchemaFormatInput, description: 'Required with JSON_SCHEMA, refused otherwise.' }),
  }),
});

export const ChatCompletionInput = builder.inputType('ChatCompletionInput', {
  description: "A chat request. Fields map to OpenAI's chat completions request (camelCase here, snake_case upstream).",
  fields: (t) => ({
    model: t.string({ required: true, description: '"provider/model", or a bare model name together with `provider`.' }),
    provider: t.string({ description: 'The provider id, when `model` does not name it.' }),
    messages: t.field({ type: [ChatMessageInput], required: true, description: 'The conversation so far.' }),
    temperature: t.float({ description: 'Sampling temperature, 0–2: higher is more random.' }),
    topP: t.float({ description: 'Nucleus sampling: only the tokens in the top `topP` probability mass.' }),
    maxTokens: t.int({ description: 'Most tokens to generate (older name; reasoning models want maxCompletionTokens).' }),
    maxCompletionTokens: t.int({ description: 'Most tokens to generate, reasoning tokens included.' }),
    n: t.int({ description: 'How many alternative answers (choices) to generate.' }),
    stop: t.stringList({ description: 'Up to 4 sequences at which generation stops.' }),
    seed: t.int({ description: 'Ask for repeatable sampling, where the provider supports it.' }),
    frequencyPenalty: t.float({ description: '-2–2: positive values discourage repeating the same tokens.' }),
    presencePenalty: t.float({ description: '-2–2: positive values encourage new topics.' }),
    logprobs: t.boolean({ description: 'Return the log probabilities of the output tokens (`ChatChoice.logprobs`).' }),
    topLogprobs: t.int({ description: 'With logprobs: how many most likely alternatives per token (0–20).' }),
    user: t.string({ description: 'An id for your end user, passed to the provider for abuse monitoring.' }),
    tools: t.field({ type: [ToolInput], description: 'Functions the model may call.' }),
    toolChoice: t.string({ description: '"auto", "none", "required", or the name of a function to call.' }),
    parallelToolCalls: t.boolean({ description: 'Whether the model may call several tools at once.' }),
    reasoningEffort: t.field({ type: ReasoningEffortEnum, description: 'How much a reasoning model thinks first.' }),
    responseFormat: t.field({ type: ResponseFormatInput, description: 'Plain text, a JSON object, or JSON following a schema.' }),
    metadata: t.field({ type: JSONScalar, description: 'Key-value tags stored with the completion, where the provider keeps them (an object of strings).' }),
    extraBody: t.field({
      type: JSONScalar,
      description: 'Provider-specific fields, merged into the upstream request body last, as given (an object).',
    }),
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
    if (m.role === 'tool' && !m.toolCallId) throw new BadRequestError(`messages[${i}] has role TOOL but no toolCallId`);
    if (m.content != null && m.parts != null) throw new BadRequestError(`messages[${i}] has both content and parts; give one`);
    let content: ChatMessage['content'] = m.content ?? null;
    if (m.parts != null) {
      const parts = toWireParts(m.parts, `messages[${i}]`);
      chars += textLength(parts);
      content = parts;
    } else chars += m.content?.length ?? 0;
    const message: ChatMessage = { role: m.role, content };
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
  for (const [field, wire] of SCALAR_FIELDS) {
    if (input[field] != null) request[wire] = input[field];
  }
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
  if (input.responseFormat != null) request.response_format = toResponseFormat(input.responseFormat);
  if (input.metadata != null) request.metadata = objectOf(input.metadata, 'metadata');
  // Last, as given: provider-specific fields may set anything (the provider layer keeps model and stream).
  if (input.extraBody != null) Object.assign(request, objectOf(input.extraBody, 'extraBody'));
  return request;
}

/** Input fields copied as they are, under OpenAI's wire name (enums already carry their wire value). */
const SCALAR_FIELDS = [
  ['temperature', 'temperature'],
  ['topP', 'top_p'],
  ['maxTokens', 'max_tokens'],
  ['maxCompletionTokens', 'max_completion_tokens'],
  ['n', 'n'],
  ['stop', 'stop'],
  ['seed', 'seed'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['presencePenalty', 'presence_penalty'],
  ['logprobs', 'logprobs'],
  ['topLogprobs', 'top_logprobs'],
  ['user', 'user'],
  ['parallelToolCalls', 'parallel_tool_calls'],
  ['reasoningEffort', 'reasoning_effort'],
] as const satisfies readonly (readonly [keyof ChatInput, string])[];

function toResponseFormat(format: NonNullable<ChatInput['responseFormat']>): Record<string, unknown> {
  if (format.type !== 'json_schema') {
    if (format.jsonSchema != null) throw new BadRequestError(`responseFormat.jsonSchema is only for type JSON_SCHEMA`);
    return { type: format.type };
  }
  if (format.jsonSchema == null) throw new BadRequestError('responseFormat.jsonSchema is required with type JSON_SCHEMA');
  const { name, schema, strict, description } = format.jsonSchema;
  const jsonSchema: Record<string, unknown> = { name, schema: objectOf(schema, 'responseFormat.jsonSchema.schema') };
  if (strict != null) jsonSchema.strict = strict;
  if (description != null) jsonSchema.description = description;
  return { type: 'json_schema', json_schema: jsonSchema };
}

function objectOf(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadRequestError(`${field} must be a JSON object`);
  return value as Record<string, unknown>;
}
