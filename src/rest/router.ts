/**
 * The REST shim: OpenAI-compatible routes served straight on the `node:http` request path (no
 * Fetch-API adapter in between: that is where the REST latency budget goes).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallContext, Gateway } from '../gateway.js';
import { GatewayError, NotFoundError } from '../errors.js';
import { chatCompletions } from './chat.js';
import { embeddings } from './embeddings.js';
import { imageGenerations } from './images.js';
import { messages } from './messages.js';
import { responses } from './responses.js';
import { plainErrorBody, sendJson, type ErrorBody } from './http.js';
import { anthropicError } from '../messages/errors.js';
import { proxy } from './proxy.js';

export function createRestHandler(gateway: Gateway, maxBody: number) {
  /** `ctx.signal` fires when the client goes away or the gateway cuts in-flight work. */
  return async function rest(req: IncomingMessage, res: ServerResponse, path: string, query: string, ctx: CallContext & { signal: AbortSignal }): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/v1/chat/completions') {
      allow(method, 'POST');
      return chatCompletions(gateway, req, res, new URLSearchParams(query), maxBody, ctx);
    }
    if (path === '/v1/messages') {
      allow(method, 'POST');
      return messages(gateway, req, res, new URLSearchParams(query), maxBody, ctx);
    }
    if (path === '/v1/responses') {
      allow(method, 'POST');
      return responses(gateway, req, res, new URLSearchParams(query), maxBody, ctx);
    }
    if (path === '/v1/images/generations') {
      allow(method, 'POST');
      return imageGenerations(gateway, req, res, new URLSearchParams(query), maxBody, ctx);
    }
    if (path === '/v1/embeddings') {
      allow(method, 'POST');
      return embeddings(gateway, req, res, new URLSearchParams(query), maxBody, ctx);
    }
    if (path === '/v1/models') {
      allow(method, 'GET');
      const provider = new URLSearchParams(query).get('provider');
      const data = await gateway.listModels(provider, ctx.signal, ctx.identity);
      return sendJson(res, 200, provider ? { object: 'list', data, provider } : { object: 'list', data });
    }
    if (path.startsWith('/proxy/')) return proxy(gateway, req, res, path, query, maxBody, ctx);
    throw new NotFoundError(`No route for ${method} ${path}`);
  };
}

/** How errors on `path` are worded: Anthropic's shape on its door, the contract's everywhere else. */
export function errorBodyFor(path: string): ErrorBody {
  return path === '/v1/messages' ? anthropicError : plainErrorBody;
}

/**
 * The caller's credentials: `Authorization`, or on the Messages door the `x-api-key` the Anthropic
 * SDK sends when it is given an API key (the gateway's token, then).
 */
export function authorizationOf(req: IncomingMessage, path: string): string | undefined {
  const apiKey = req.headers['x-api-key'];
  if (req.headers.authorization || path !== '/v1/messages' || typeof apiKey !== 'string' || apiKey === '') return req.headers.authorization;
  return `Bearer ${apiKey}`;
}

function allow(method: string, expected: string): void {
  if (method !== expected) {
    throw new GatewayError(`Method ${method} is not allowed here; use ${expected}`, 405, 'BAD_USER_INPUT', {}, { allow: expected });
  }
}
