/**
 * What a provider call's CLIENT span says, per OpenTelemetry's GenAI semantic conventions, read from
 * requests and answers in any of the APIs the gateway speaks (OpenAI chat and embeddings, Anthropic
 * Messages, OpenAI Responses, images). Message text is only read when content capture is on.
 * The attribute names are the conventions' (still "development"), spelled out here as the
 * conventions advise for unstable names rather than imported.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';

export const GEN_AI = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  /** The older name of `gen_ai.provider.name`, still read by many backends. */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cachedTokens: 'gen_ai.usage.cache_read.input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  timeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  stream: 'gen_ai.request.stream',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
} as const;

/** Gateway ids whose well-known `gen_ai.provider.name` differs; the rest are their own names. */
const PROVIDER_NAMES: Record<string, string> = { google: 'gcp.gemini', mistral: 'mistral_ai' };

export function genAiProviderName(provider: string): string {
  return PROVIDER_NAMES[provider] ?? provider;
}

type Json = Record<string, any>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** `gen_ai.request.*` parameters of a request in any of the gateway's APIs (never its content). */
export function requestAttributes(asked: unknown): Attributes {
  const attributes: Attributes = {};
  if (!isObject(asked)) return attributes;
  const number = (name: string, value: unknown) => {
    if (typeof value === 'number' && Number.isFinite(value)) attributes[name] = value;
  };
  number('gen_ai.request.temperature', asked.temperature);
  number('gen_ai.request.top_p', asked.top_p);
  number('gen_ai.request.top_k', asked.top_k);
  number('gen_ai.request.max_tokens', asked.max_completion_tokens ?? asked.max_tokens ?? asked.max_output_tokens);
  number('gen_ai.request.seed', asked.seed);
  number('gen_ai.request.frequency_penalty', asked.frequency_penalty);
  number('gen_ai.request.presence_penalty', asked.presence_penalty);
  if (typeof asked.n === 'number' && asked.n !== 1) number('gen_ai.request.choice.count', asked.n);
  const stop = asked.stop ?? asked.stop_sequences;
  if (typeof stop === 'string') attributes['gen_ai.request.stop_sequences'] = [stop];
  else if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) attributes['gen_ai.request.stop_sequences'] = stop as string[];
  if (typeof asked.encoding_format === 'string') attributes['gen_ai.request.encoding_formats'] = [asked.encoding_format];
  return attributes;
}

/** The answer inside a gateway call's result, whichever door made it (chat, embeddings, Messages, Responses, images). */
export function answerOf(result: unknown): Json | undefined {
  if (!isObject(result)) return undefined;
  const answer = result.completion ?? result.message ?? result.response ?? result.images ?? result.body;
  return isObject(answer) ? answer : undefined;
}

/** `gen_ai.response.id`, `.model` and `.finish_reasons` of an answer. */
export function responseAttributes(answer: Json | undefined): Attributes {
  const attributes: Attributes = {};
  if (!answer) return attributes;
  if (typeof answer.id === 'string') attributes[GEN_AI.responseId] = answer.id;
  if (typeof answer.model === 'string') attributes[GEN_AI.responseModel] = answer.model;
  const reasons = finishReasons(answer);
  if (reasons.length > 0) attributes[GEN_AI.finishReasons] = reasons;
  return attributes;
}

function finishReasons(answer: Json): string[] {
  if (Array.isArray(answer.choices)) {
    return answer.choices.map((c: Json) => c?.finish_reason).filter((r: unknown): r is string => typeof r === 'string');
  }
  if (typeof answer.stop_reason === 'string') return [answer.stop_reason]; // Messages
  if (answer.object === 'response' && typeof answer.status === 'string') return [answer.status]; // Responses
  return [];
}

/**
 * The conversation as `gen_ai.input.messages` (and the system prompt as `gen_ai.system_instructions`):
 * the conventions' `[{role, parts: [{type: "text", content}]}]` JSON. Only called with capture on.
 */
export function inputContent(asked: unknown): Attributes {
  const attributes: Attributes = {};
  if (!isObject(asked)) return attributes;
  const messages = Array.isArray(asked.messages)
    ? asked.messages
    : typeof asked.input === 'string'
      ? [{ role: 'user', content: asked.input }]
      : Array.isArray(asked.input)
        ? asked.input
        : typeof asked.prompt === 'string'
          ? [{ role: 'user', content: asked.prompt }]
          : undefined;
  if (messages) attributes[GEN_AI.inputMessages] = JSON.stringify(messages.filter(isObject).map(toMessage));
  const system = asked.system ?? asked.instructions;
  if (system !== undefined) attributes[GEN_AI.systemInstructions] = JSON.stringify(partsOf(system));
  return attributes;
}

/** The answer's messages as `gen_ai.output.messages`. Only called with capture on. */
export function outputContent(answer: Json | undefined): Attributes {
  if (!answer) return {};
  let messages: Json[] | undefined;
  if (Array.isArray(answer.choices)) {
    messages = answer.choices.map((c: Json) => ({ ...toMessage(c?.message ?? {}), finish_reason: c?.finish_reason ?? undefined }));
  } else if (Array.isArray(answer.content)) {
    messages = [{ role: 'assistant', parts: partsOf(answer.content), finish_reason: answer.stop_reason }];
  } else if (Array.isArray(answer.output)) {
    messages = answer.output.filter(isObject).map(toMessage);
  }
  return messages ? { [GEN_AI.outputMessages]: JSON.stringify(messages) } : {};
}

/** One stream's text and reasons, gathered item by item; `text` only when capturing content. */
export class StreamFacts {
  model: string | undefined;
  id: string | undefined;
  readonly reasons: string[] = [];
  private text = '';

  constructor(private readonly capture: boolean) {}

  /** A chat chunk (`{chunk}`) or another API's event (`{parsed}`). */
  see(item: unknown): void {
    if (!isObject(item)) return;
    if (isObject(item.chunk)) return this.chunk(item.chunk);
    if (isObject(item.parsed)) this.event(item.parsed);
  }

  attributes(): Attributes {
    const attributes: Attributes = {};
    if (this.id) attributes[GEN_AI.responseId] = this.id;
    if (this.model) attributes[GEN_AI.responseModel] = this.model;
    if (this.reasons.length > 0) attributes[GEN_AI.finishReasons] = this.reasons;
    if (this.capture) {
      const message = { role: 'assistant', parts: this.text ? [{ type: 'text', content: this.text }] : [], finish_reason: this.reasons[0] };
      attributes[GEN_AI.outputMessages] = JSON.stringify([message]);
    }
    return attributes;
  }

  private chunk(chunk: Json): void {
    if (this.model === undefined && typeof chunk.model === 'string') this.model = chunk.model;
    if (this.id === undefined && typeof chunk.id === 'string') this.id = chunk.id;
    if (!Array.isArray(chunk.choices)) return;
    for (const choice of chunk.choices) {
      if (typeof choice?.finish_reason === 'string') this.reasons.push(choice.finish_reason);
      if (this.capture && typeof choice?.delta?.content === 'string') this.text += choice.delta.content;
    }
  }

  private event(event: Json): void {
    switch (event.type) {
      case 'message_start': // Messages
        this.model ??= event.message?.model;
        this.id ??= event.message?.id;
        return;
      case 'message_delta':
        if (typeof event.delta?.stop_reason === 'string') this.reasons.push(event.delta.stop_reason);
        return;
      case 'content_block_delta':
        if (this.capture && typeof event.delta?.text === 'string') this.text += event.delta.text;
        return;
      case 'response.created': // Responses
        this.model ??= event.response?.model;
        this.id ??= event.response?.id;
        return;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        if (typeof event.response?.status === 'string') this.reasons.push(event.response.status);
        return;
      case 'response.output_text.delta':
        if (this.capture && typeof event.delta === 'string') this.text += event.delta;
    }
  }
}

function toMessage(message: Json): Json {
  const role = typeof message.role === 'string' ? message.role : typeof message.type === 'string' ? message.type : 'user';
  const parts = partsOf(message.content ?? message.output ?? message.arguments);
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) parts.push({ type: 'tool_call', id: call?.id, name: call?.function?.name, arguments: call?.function?.arguments });
  }
  if (role === 'tool') return { role, parts: [{ type: 'tool_call_response', id: message.tool_call_id, response: textOf(message.content) }] };
  return { role, parts };
}

function partsOf(content: unknown): Json[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [{ type: 'text', content: JSON.stringify(content) }];
  return content.filter(isObject).map((part) => {
    const text = part.text ?? (part.type === 'thinking' ? part.thinking : undefined);
    if (typeof text === 'string') return { type: part.type === 'thinking' ? 'reasoning' : 'text', content: text };
    if (part.type === 'tool_use') return { type: 'tool_call', id: part.id, name: part.name, arguments: part.input };
    if (part.type === 'tool_result') return { type: 'tool_call_response', id: part.tool_use_id, response: part.content };
    // Images, audio, files: their kind only, never their bytes.
    return { type: String(part.type ?? 'unknown') };
  });
}

function textOf(content: unknown): AttributeValue {
  if (typeof content === 'string') return content;
  return JSON.stringify(content ?? null);
}
