/**
 * OpenAI Responses request (stateless) → chat completions request, for providers that don't serve
 * the Responses API themselves. Stateful and built-in features have no chat equivalent: a 400 says so.
 */
import { BadRequestError } from '../errors.js';
import type { ChatMessage, ChatRequest } from '../providers/types.js';

export type ResponsesRequest = Record<string, any> & { model: string };

const STATEFUL = ['previous_response_id', 'conversation', 'prompt'] as const;

export function validateResponsesRequest(body: unknown): ResponsesRequest {
  if (!isObject(body)) throw new BadRequestError('Request body must be a JSON object with model and input');
  if (typeof body.model !== 'string' || body.model.trim() === '') throw new BadRequestError("'model' must be a non-empty string, e.g. \"groq/llama-3.3-70b-versatile\"");
  for (const field of STATEFUL) {
    if (body[field] != null) throw new BadRequestError(`'${field}' is not supported: this gateway serves the Responses API statelessly; send the whole conversation as input`);
  }
  if (body.store === true) throw new BadRequestError("'store: true' is not supported: this gateway keeps no responses; send store: false (or leave it out)");
  if (body.background === true) throw new BadRequestError("'background: true' is not supported: responses are answered while the request is open");
  if (typeof body.input !== 'string' && !Array.isArray(body.input)) throw new BadRequestError("'input' must be a string or an array of input items");
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw new BadRequestError("'stream' must be true or false");
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw new BadRequestError("'tools' must be an array");
    body.tools.forEach((tool, i) => {
      if (!isObject(tool) || tool.type !== 'function') {
        throw new BadRequestError(`tools[${i}]: built-in tools (${isObject(tool) ? tool.type : typeof tool}) are not supported; only {"type": "function", "name", "parameters"}`);
      }
      if (typeof tool.name !== 'string') throw new BadRequestError(`tools[${i}].name must be a string`);
    });
  }
  return body as ResponsesRequest;
}

export function toChatRequest(request: ResponsesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  if (typeof request.instructions === 'string' && request.instructions) messages.push({ role: 'system', content: request.instructions });
  if (typeof request.input === 'string') messages.push({ role: 'user', content: request.input });
  else request.input.forEach((item: unknown, i: number) => addItem(messages, item, i));
  const chat: ChatRequest = { model: request.model, messages };
  if (request.max_output_tokens != null) chat.max_completion_tokens = request.max_output_tokens;
  for (const field of ['temperature', 'top_p', 'parallel_tool_calls', 'user', 'top_logprobs'] as const) {
    if (request[field] != null) chat[field] = request[field];
  }
  if (request.tools?.length) {
    chat.tools = request.tools.map((t: Record<string, any>) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description != null && { description: t.description }),
        parameters: t.parameters ?? { type: 'object', properties: {} },
        ...(t.strict != null && { strict: t.strict }),
      },
    }));
  }
  if (request.tool_choice != null) chat.tool_choice = toolChoice(request.tool_choice);
  const format = request.text?.format;
  if (format?.type === 'json_schema') {
    chat.response_format = { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, ...(format.strict != null && { strict: format.strict }), ...(format.description != null && { description: format.description }) } };
  } else if (format?.type === 'json_object') chat.response_format = { type: 'json_object' };
  if (request.reasoning?.effort) chat.reasoning_effort = request.reasoning.effort;
  return chat;
}

/** One input item as chat messages; consecutive function calls join one assistant message. */
function addItem(messages: ChatMessage[], item: unknown, i: number): void {
  if (!isObject(item)) throw new BadRequestError(`input[${i}] must be an input item object`);
  const type = item.type ?? 'message';
  if (type === 'message') {
    if (!['user', 'system', 'developer', 'assistant'].includes(item.role)) throw new BadRequestError(`input[${i}].role must be user, system, developer or assistant`);
    messages.push({ role: item.role, content: content(item.content, `input[${i}].content`, item.role === 'assistant') });
    return;
  }
  if (type === 'function_call') {
    if (typeof item.call_id !== 'string' || typeof item.name !== 'string') throw new BadRequestError(`input[${i}]: a function_call needs call_id and name`);
    const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {}) } };
    const last = messages[messages.length - 1];
    if (last?.role === 'assistant' && last.tool_calls) last.tool_calls.push(call);
    else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    return;
  }
  if (type === 'function_call_output') {
    if (typeof item.call_id !== 'string') throw new BadRequestError(`input[${i}]: a function_call_output needs call_id`);
    messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output) });
    return;
  }
  if (type === 'reasoning') return; // a previous turn's reasoning: not something another model can take
  throw new BadRequestError(`input[${i}].type "${type}" is not supported (message, function_call, function_call_output)`);
}

function content(value: unknown, at: string, assistant: boolean): ChatMessage['content'] {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw new BadRequestError(`${at} must be a string or an array of content parts`);
  const parts = value.map((part: Record<string, any>, j: number) => {
    switch (part?.type) {
      case 'input_text':
      case 'output_text':
        return { type: 'text', text: String(part.text ?? '') };
      case 'input_image':
        if (typeof part.image_url !== 'string') throw new BadRequestError(`${at}[${j}]: input_image needs image_url (file ids need a provider that serves the Responses API)`);
        return { type: 'image_url', image_url: { url: part.image_url, ...(part.detail && { detail: part.detail }) } };
      case 'input_file':
        return { type: 'file', file: { ...(part.file_id && { file_id: part.file_id }), ...(part.file_data && { file_data: part.file_data }), ...(part.filename && { filename: part.filename }) } };
      case 'refusal':
        return { type: 'text', text: String(part.refusal ?? '') };
      default:
        throw new BadRequestError(`${at}[${j}].type "${part?.type}" is not supported`);
    }
  });
  if (assistant || parts.every((p) => p.type === 'text')) return parts.map((p: any) => p.text ?? '').join('');
  return parts;
}

function toolChoice(choice: unknown): ChatRequest['tool_choice'] {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  throw new BadRequestError("'tool_choice' must be auto, none, required or {\"type\": \"function\", \"name\": …}");
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
