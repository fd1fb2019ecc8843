/**
 * Anthropic Messages request → OpenAI chat request, for providers that don't serve the Messages API
 * themselves. Checks the request as it goes: anything wrong is a 400 naming the field.
 */
import { BadRequestError } from '../errors.js';
import type { ChatMessage, ChatRequest, ToolCall } from '../providers/types.js';
import type { ContentBlock, MessageParam, MessagesRequest, MessagesToolChoice, TextBlock } from './types.js';

export function validateMessagesRequest(body: unknown): MessagesRequest {
  if (!isObject(body)) throw new BadRequestError('Request body must be a JSON object with model, max_tokens and messages');
  if (typeof body.model !== 'string' || body.model.trim() === '') throw new BadRequestError('model: must be a non-empty string, e.g. "anthropic/claude-sonnet-4-5"');
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) throw new BadRequestError('max_tokens: must be a positive integer');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw new BadRequestError('messages: must be a non-empty array of {role, content}');
  body.messages.forEach((m, i) => {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) throw new BadRequestError(`messages.${i}.role: must be "user" or "assistant"`);
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) throw new BadRequestError(`messages.${i}.content: must be a string or an array of content blocks`);
    if (Array.isArray(m.content)) m.content.forEach((b, j) => {
      if (!isObject(b) || typeof b.type !== 'string') throw new BadRequestError(`messages.${i}.content.${j}: must be a content block with a type`);
    });
  });
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) throw new BadRequestError('system: must be a string or an array of text blocks');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw new BadRequestError('stream: must be true or false');
  if (body.stop_sequences !== undefined && (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((s) => typeof s === 'string'))) {
    throw new BadRequestError('stop_sequences: must be an array of strings');
  }
  for (const field of ['temperature', 'top_p'] as const) {
    if (body[field] !== undefined && typeof body[field] !== 'number') throw new BadRequestError(`${field}: must be a number`);
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw new BadRequestError('tools: must be an array');
    body.tools.forEach((t, i) => {
      if (!isObject(t) || typeof t.name !== 'string') throw new BadRequestError(`tools.${i}: must have a name and an input_schema`);
    });
  }
  return body as MessagesRequest;
}

export function toChatRequest(request: MessagesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  const system = systemText(request.system);
  if (system) messages.push({ role: 'system', content: system });
  request.messages.forEach((message, i) => messages.push(...toChatMessages(message, i)));
  const chat: ChatRequest = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (request.top_k !== undefined) chat.top_k = request.top_k; // no OpenAI equivalent: providers that know it use it
  if (request.stop_sequences?.length) chat.stop = request.stop_sequences;
  if (request.metadata?.user_id) chat.user = request.metadata.user_id;
  if (request.tools?.length) {
    chat.tools = request.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description !== undefined && { description: t.description }), parameters: t.input_schema ?? { type: 'object' } },
    }));
  }
  if (request.tool_choice) Object.assign(chat, toolChoice(request.tool_choice));
  if (request.thinking?.type === 'enabled') chat.reasoning_effort = effortFor(request.thinking.budget_tokens);
  return chat;
}

function systemText(system: MessagesRequest['system']): string {
  if (system === undefined) return '';
  if (typeof system === 'string') return system;
  return system.map((b, i) => {
    if (b?.type !== 'text' || typeof b.text !== 'string') throw new BadRequestError(`system.${i}: must be a text block`);
    return b.text;
  }).join('\n');
}

/**
 * One Anthropic message as chat messages: tool results become `tool` messages (placed first: they
 * answer the assistant's previous tool calls), the rest one user or assistant message.
 */
function toChatMessages(message: MessageParam, i: number): ChatMessage[] {
  if (typeof message.content === 'string') return [{ role: message.role, content: message.content }];
  const out: ChatMessage[] = [];
  const parts: Record<string, unknown>[] = [];
  const toolCalls: ToolCall[] = [];
  let reasoning = '';
  message.content.forEach((block: ContentBlock, j) => {
    const at = `messages.${i}.content.${j}`;
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: String(block.text) });
        break;
      case 'image':
        parts.push({ type: 'image_url', image_url: { url: sourceUrl(block.source, at) } });
        break;
      case 'document':
        if (block.source.type === 'text') parts.push({ type: 'text', text: block.source.data });
        else if (block.source.type === 'base64') parts.push({ type: 'file', file: { file_data: `data:${block.source.media_type};base64,${block.source.data}`, ...(block.title && { filename: block.title }) } });
        else throw new BadRequestError(`${at}.source: a document by URL needs a provider that serves the Messages API itself`);
        break;
      case 'tool_use':
        if (message.role !== 'assistant') throw new BadRequestError(`${at}: tool_use blocks belong to assistant messages`);
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
        break;
      case 'tool_result':
        if (message.role !== 'user') throw new BadRequestError(`${at}: tool_result blocks belong to user messages`);
        out.push({ role: 'tool', tool_call_id: block.tool_use_id, content: toolResultText(block.content, block.is_error) });
        break;
      case 'thinking':
        reasoning += block.thinking;
        break;
      case 'redacted_thinking':
        break; // opaque to any other provider
      default:
        throw new BadRequestError(`${at}.type: "${(block as { type: string }).type}" is not supported when translating to chat completions`);
    }
  });
  if (message.role === 'assistant') {
    const text = parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
    if (text || toolCalls.length || reasoning) {
      const chat: ChatMessage = { role: 'assistant', content: text || null };
      if (toolCalls.length) chat.tool_calls = toolCalls;
      if (reasoning) chat.reasoning_content = reasoning;
      out.push(chat);
    }
  } else if (parts.length > 0) {
    // Plain text stays a string (every provider takes it); anything else is a parts array.
    out.push({ role: 'user', content: parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('\n') : parts });
  }
  return out;
}

function sourceUrl(source: { type: string; media_type?: string; data?: string; url?: string }, at: string): string {
  if (source?.type === 'base64' && typeof source.data === 'string') return `data:${source.media_type};base64,${source.data}`;
  if (source?.type === 'url' && typeof source.url === 'string') return source.url;
  throw new BadRequestError(`${at}.source: must be {type: "base64", media_type, data} or {type: "url", url}`);
}

function toolResultText(content: string | (TextBlock | { type: string })[] | undefined, isError?: boolean): string {
  const text = typeof content === 'string' ? content : (content ?? []).map((b) => (b.type === 'text' ? (b as TextBlock).text : `[${b.type}]`)).join('\n');
  return isError ? `Error: ${text}` : text;
}

function toolChoice(choice: MessagesToolChoice): Partial<ChatRequest> {
  const out: Partial<ChatRequest> = {};
  if (choice.type === 'auto') out.tool_choice = 'auto';
  else if (choice.type === 'any') out.tool_choice = 'required';
  else if (choice.type === 'none') out.tool_choice = 'none';
  else if (choice.type === 'tool') out.tool_choice = { type: 'function', function: { name: choice.name } };
  else throw new BadRequestError(`tool_choice.type: must be auto, any, tool or none`);
  if (choice.disable_parallel_tool_use) out.parallel_tool_calls = false;
  return out;
}

/** Extended thinking's budget, as the nearest reasoning effort. */
function effortFor(budget: number): string {
  if (budget <= 2048) return 'low';
  if (budget <= 16_384) return 'medium';
  return 'high';
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
