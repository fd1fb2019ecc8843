/**
 * Checks an OpenAI chat request body just enough to give the caller a clear 400 instead of a
 * provider's confusing one. Fields we do not know pass through untouched: providers add their own.
 */
import { BadRequestError } from '../errors.js';
import { exceedsDepth, MAX_JSON_DEPTH } from '../json-limits.js';
import type { ChatRequest } from '../providers/types.js';

const NUMBER_FIELDS = ['temperature', 'top_p', 'frequency_penalty', 'presence_penalty'] as const;
const INTEGER_FIELDS = ['max_tokens', 'max_completion_tokens', 'n', 'seed'] as const;

export function validateChatRequest(body: unknown): ChatRequest {
  if (!isObject(body)) throw new BadRequestError('Request body must be a JSON object with model and messages');
  if (exceedsDepth(body)) throw new BadRequestError(`Request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (typeof body.model !== 'string' || body.model.trim() === '') {
    throw new BadRequestError("'model' must be a non-empty string, e.g. \"groq/llama-3.3-70b-versatile\"");
  }
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new BadRequestError("'messages' must be a non-empty array of {role, content} objects");
  }
  messages.forEach((message, i) => {
    if (!isObject(message)) throw new BadRequestError(`messages[${i}] must be an object with role and content`);
    if (typeof message.role !== 'string' || message.role === '') {
      throw new BadRequestError(`messages[${i}].role must be a string such as "user" or "system"`);
    }
    const { content } = message;
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      throw new BadRequestError(`messages[${i}].content must be a string or an array of content parts`);
    }
  });
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw new BadRequestError("'stream' must be true or false");
  }
  for (const field of NUMBER_FIELDS) {
    if (body[field] !== undefined && body[field] !== null && typeof body[field] !== 'number') {
      throw new BadRequestError(`'${field}' must be a number`);
    }
  }
  for (const field of INTEGER_FIELDS) {
    if (body[field] !== undefined && body[field] !== null && !Number.isInteger(body[field])) {
      throw new BadRequestError(`'${field}' must be an integer`);
    }
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw new BadRequestError("'tools' must be an array");
    body.tools.forEach((tool, i) => {
      if (!isObject(tool) || !isObject(tool.function) || typeof tool.function.name !== 'string') {
        throw new BadRequestError(`tools[${i}] must be {"type": "function", "function": {"name": …}}`);
      }
    });
  }
  return body as ChatRequest;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
