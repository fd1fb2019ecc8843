/**
 * The REST shim: OpenAI-compatible routes served straight on the `node:http` request path (no
 * Fetch-API adapter in between: that is where the REST latency budget goes).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallContext, Gateway } from '../gateway.js';
import { GatewayError, NotFoundError } from '../errors.js';
import { chatCompletions } from './chat.js';
import { embeddings } from './embeddings.js';
import { sendJson } from './http.js';
import { proxy } from './proxy.js';

export function createRestHandler(gateway: Gateway, maxBody: number) {
  /** `ctx.signal` fires when the client goes away or the gateway cuts in-flight work. */
  return async function rest(req: IncomingMessage, res: ServerResponse, path: string, query: string, ctx: CallContext & { signal: AbortSignal }): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/v1/chat/completions') {
      allow(method, 'POST');
      return chatCompletions(gateway, req, res, new URLSearchParams(query), maxBody, ctx);
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

function allow(method: string, expected: string): void {
  if (method !== expected) {
    throw new GatewayError(`Method ${method} is not allowed here; use ${expected}`, 405, 'BAD_USER_INPUT', {}, { allow: expected });
  }
}
