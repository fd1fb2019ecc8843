/**
 * OpenAI chat answers → Anthropic Messages answers: a completion as a message, and a chat stream as
 * Anthropic's event sequence (message_start, content_block_start/delta/stop — text, thinking and
 * tool_use with input_json_delta — message_delta with usage, message_stop).
 */
import type { ChatCompletion, ChatCompletionChunk, Usage } from '../providers/types.js';
import type { Message, MessagesEvent, MessagesUsage, StopReason, TextBlock, ThinkingBlock, ToolUseBlock } from './types.js';

export function toMessage(completion: ChatCompletion, model: string): Message {
  const choice = completion.choices[0];
  const message = choice?.message;
  const content: Message['content'] = [];
  const reasoning = message?.reasoning_content ?? message?.reasoning;
  if (typeof reasoning === 'string' && reasoning) content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  const text = typeof message?.content === 'string' ? message.content : Array.isArray(message?.content) ? message.content.map((p: any) => p?.text ?? '').join('') : '';
  if (text) content.push({ type: 'text', text });
  if (typeof message?.refusal === 'string' && message.refusal) content.push({ type: 'text', text: message.refusal });
  for (const call of message?.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) });
  }
  return {
    id: messageId(completion.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: message?.refusal ? 'refusal' : stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: toUsage(completion.usage),
  };
}

export function toUsage(usage: Partial<Usage> | null | undefined): MessagesUsage {
  const cached = (usage?.prompt_tokens_details as { cached_tokens?: number } | undefined)?.cached_tokens;
  const prompt = Number(usage?.prompt_tokens) || 0;
  return {
    // Anthropic counts cache reads apart from input tokens; OpenAI's prompt tokens include them.
    input_tokens: prompt - (cached ?? 0),
    output_tokens: Number(usage?.completion_tokens) || 0,
    cache_read_input_tokens: cached ?? null,
    cache_creation_input_tokens: null,
  };
}

export function stopReason(finish: string | null | undefined): StopReason | null {
  switch (finish) {
    case 'stop':
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case null:
    case undefined:
      return null;
    default:
      return 'end_turn';
  }
}

/** Model-made arguments are JSON text that may be broken; Anthropic's input is an object either way. */
function parseArguments(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text || '{}');
    return value !== null && typeof value === 'object' ? value : { value };
  } catch {
    return { _raw: text };
  }
}

const messageId = (id: string | undefined) => (id?.startsWith('msg_') ? id : `msg_${id ?? Date.now().toString(36)}`);

type OpenBlock = { kind: 'text' | 'thinking' } | { kind: 'tool'; index: number };

/**
 * A chat stream, one chunk at a time, as Anthropic's events. `push` returns the events a chunk
 * makes; `end` the closing ones once the stream has ended.
 */
export class StreamTranslator {
  private started = false;
  private block: OpenBlock | undefined;
  private index = -1;
  private stop: StopReason | null = null;
  private usage: Partial<Usage> | undefined;

  constructor(private readonly model: string) {}

  push(chunk: ChatCompletionChunk): MessagesEvent[] {
    const events: MessagesEvent[] = [];
    if (!this.started) {
      this.started = true;
      events.push({
        type: 'message_start',
        message: { id: messageId(chunk.id), type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: toUsage(undefined) },
      });
    }
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      if (choice.index !== undefined && choice.index !== 0) continue; // Messages has one answer
      const delta = choice.delta ?? {};
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === 'string' && reasoning) {
        this.openBlock(events, { kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
        events.push(this.delta({ type: 'thinking_delta', thinking: reasoning }));
      }
      const text = typeof delta.content === 'string' ? delta.content : typeof delta.refusal === 'string' ? delta.refusal : '';
      if (text) {
        this.openBlock(events, { kind: 'text' }, { type: 'text', text: '' });
        events.push(this.delta({ type: 'text_delta', text }));
      }
      if (typeof delta.refusal === 'string' && delta.refusal) this.stop = 'refusal';
      for (const call of delta.tool_calls ?? []) {
        const index = call.index ?? 0;
        if (!(this.block?.kind === 'tool' && this.block.index === index)) {
          this.openBlock(events, { kind: 'tool', index }, { type: 'tool_use', id: call.id ?? `toolu_${index}`, name: call.function?.name ?? '', input: {} });
        }
        const args = call.function?.arguments;
        if (args) events.push(this.delta({ type: 'input_json_delta', partial_json: args }));
      }
      if (choice.finish_reason) this.stop = this.stop ?? stopReason(choice.finish_reason);
    }
    return events;
  }

  end(): MessagesEvent[] {
    const events: MessagesEvent[] = [];
    this.closeBlock(events);
    const usage = toUsage(this.usage);
    events.push({
      type: 'message_delta',
      delta: { stop_reason: this.stop ?? 'end_turn', stop_sequence: null },
      usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, cache_read_input_tokens: usage.cache_read_input_tokens },
    });
    events.push({ type: 'message_stop' });
    return events;
  }

  private openBlock(events: MessagesEvent[], block: OpenBlock, start: TextBlock | ThinkingBlock | ToolUseBlock): void {
    if (this.block && this.block.kind === block.kind && block.kind !== 'tool') return;
    this.closeBlock(events);
    this.block = block;
    this.index++;
    events.push({ type: 'content_block_start', index: this.index, content_block: start });
  }

  private closeBlock(events: MessagesEvent[]): void {
    if (!this.block) return;
    events.push({ type: 'content_block_stop', index: this.index });
    this.block = undefined;
  }

  private delta(delta: Record<string, unknown>): MessagesEvent {
    return { type: 'content_block_delta', index: this.index, delta };
  }
}
