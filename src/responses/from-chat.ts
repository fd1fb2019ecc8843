/**
 * OpenAI chat answers → Responses answers: a completion as a `response` object, and a chat stream as
 * the `response.*` event sequence (created, in_progress, output_item.added, content_part.added,
 * output_text.delta/done, function_call_arguments.delta/done, output_item.done, completed).
 */
import { randomUUID } from 'node:crypto';
import type { ChatCompletion, ChatCompletionChunk, Usage } from '../providers/types.js';
import type { ResponsesRequest } from './to-chat.js';

type Item = Record<string, any>;

/** The request's settings a response echoes back, as OpenAI's does. */
function echo(request: ResponsesRequest): Record<string, unknown> {
  return {
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    temperature: request.temperature ?? null,
    top_p: request.top_p ?? null,
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    text: request.text ?? { format: { type: 'text' } },
    reasoning: request.reasoning ?? null,
    metadata: request.metadata ?? {},
    store: false,
    previous_response_id: null,
    user: request.user ?? null,
  };
}

export function toResponsesUsage(usage: Partial<Usage> | null | undefined) {
  const input = Number(usage?.prompt_tokens) || 0;
  const output = Number(usage?.completion_tokens) || 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: Number((usage?.prompt_tokens_details as any)?.cached_tokens) || 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: Number((usage?.completion_tokens_details as any)?.reasoning_tokens) || 0 },
    total_tokens: input + output,
  };
}

/** Why an answer is incomplete, in the Responses API's words (null: it is complete). */
function incompleteReason(finish: string | null | undefined): string | null {
  if (finish === 'length') return 'max_output_tokens';
  if (finish === 'content_filter') return 'content_filter';
  return null;
}

const newId = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '')}`;

export function toResponse(completion: ChatCompletion, request: ResponsesRequest): Record<string, unknown> {
  const choice = completion.choices[0];
  const message = choice?.message;
  const output: Item[] = [];
  const text = typeof message?.content === 'string' ? message.content : Array.isArray(message?.content) ? message.content.map((p: any) => p?.text ?? '').join('') : '';
  if (text || message?.refusal) {
    const part = message?.refusal ? { type: 'refusal', refusal: message.refusal } : { type: 'output_text', text, annotations: [], logprobs: [] };
    output.push({ type: 'message', id: newId('msg'), status: 'completed', role: 'assistant', content: [part] });
  }
  for (const call of message?.tool_calls ?? []) {
    output.push({ type: 'function_call', id: newId('fc'), call_id: call.id, name: call.function.name, arguments: call.function.arguments, status: 'completed' });
  }
  const incomplete = incompleteReason(choice?.finish_reason);
  return {
    id: newId('resp'),
    object: 'response',
    created_at: Number(completion.created) || Math.floor(Date.now() / 1000),
    status: incomplete ? 'incomplete' : 'completed',
    incomplete_details: incomplete ? { reason: incomplete } : null,
    error: null,
    model: request.model,
    output,
    usage: toResponsesUsage(completion.usage),
    ...echo(request),
  };
}

/** A chat stream as Responses events; `push` per chunk, `end` once the stream has ended. */
export class ResponsesStreamTranslator {
  private sequence = 0;
  private readonly id = newId('resp');
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly output: Item[] = [];
  /** The message item being written: its text so far, or a refusal's. */
  private message: { item: Item; index: number; text: string; refusal: boolean } | undefined;
  /** Function call items by the chat stream's tool call index. */
  private readonly calls = new Map<number, { item: Item; index: number }>();
  private usage: Partial<Usage> | undefined;
  private finish: string | null = null;

  constructor(private readonly request: ResponsesRequest) {}

  start(): Item[] {
    const response = this.response('in_progress');
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  push(chunk: ChatCompletionChunk): Item[] {
    const events: Item[] = [];
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      if ((choice.index ?? 0) !== 0) continue;
      const delta = choice.delta ?? {};
      const refusal = typeof delta.refusal === 'string' && delta.refusal ? delta.refusal : undefined;
      const text = typeof delta.content === 'string' && delta.content ? delta.content : refusal;
      if (text) {
        if (!this.message) {
          const item = { type: 'message', id: newId('msg'), status: 'in_progress', role: 'assistant', content: [] as Item[] };
          this.message = { item, index: this.output.push(item) - 1, text: '', refusal: refusal !== undefined };
          // Copies: the item itself changes as the stream goes on; an event handed out must not.
          events.push(this.event('response.output_item.added', { output_index: this.message.index, item: { ...item, content: [] } }));
          const part = this.message.refusal ? { type: 'refusal', refusal: '' } : { type: 'output_text', text: '', annotations: [] };
          events.push(this.event('response.content_part.added', { item_id: item.id, output_index: this.message.index, content_index: 0, part }));
        }
        this.message.text += text;
        const where = { item_id: this.message.item.id, output_index: this.message.index, content_index: 0, delta: text };
        events.push(this.message.refusal ? this.event('response.refusal.delta', where) : this.event('response.output_text.delta', { ...where, logprobs: [] }));
      }
      for (const call of delta.tool_calls ?? []) {
        let open = this.calls.get(call.index ?? 0);
        if (!open) {
          const item = { type: 'function_call', id: newId('fc'), call_id: call.id ?? newId('call'), name: call.function?.name ?? '', arguments: '', status: 'in_progress' };
          open = { item, index: this.output.push(item) - 1 };
          this.calls.set(call.index ?? 0, open);
          events.push(this.event('response.output_item.added', { output_index: open.index, item: { ...item } }));
        }
        const args = call.function?.arguments;
        if (args) {
          open.item.arguments += args;
          events.push(this.event('response.function_call_arguments.delta', { item_id: open.item.id, output_index: open.index, delta: args }));
        }
      }
      if (choice.finish_reason) this.finish = choice.finish_reason;
    }
    return events;
  }

  end(): Item[] {
    const events: Item[] = [];
    if (this.message) {
      const { item, index, text, refusal } = this.message;
      const part = refusal ? { type: 'refusal', refusal: text } : { type: 'output_text', text, annotations: [], logprobs: [] };
      events.push(
        refusal
          ? this.event('response.refusal.done', { item_id: item.id, output_index: index, content_index: 0, refusal: text })
          : this.event('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text, logprobs: [] }),
      );
      events.push(this.event('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part }));
      item.content = [part];
      item.status = 'completed';
      events.push(this.event('response.output_item.done', { output_index: index, item: { ...item } }));
    }
    for (const { item, index } of this.calls.values()) {
      events.push(this.event('response.function_call_arguments.done', { item_id: item.id, output_index: index, arguments: item.arguments }));
      item.status = 'completed';
      events.push(this.event('response.output_item.done', { output_index: index, item: { ...item } }));
    }
    const incomplete = incompleteReason(this.finish);
    const response = this.response(incomplete ? 'incomplete' : 'completed', incomplete);
    events.push(this.event(incomplete ? 'response.incomplete' : 'response.completed', { response }));
    return events;
  }

  private response(status: string, incomplete: string | null = null): Item {
    return {
      id: this.id,
      object: 'response',
      created_at: this.created,
      status,
      incomplete_details: incomplete ? { reason: incomplete } : null,
      error: null,
      model: this.request.model,
      output: status === 'in_progress' ? [] : this.output,
      usage: status === 'in_progress' ? null : toResponsesUsage(this.usage),
      ...echo(this.request),
    };
  }

  private event(type: string, fields: Item): Item {
    return { type, sequence_number: this.sequence++, ...fields };
  }
}
