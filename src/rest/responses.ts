/**
 * POST /v1/responses: OpenAI's Responses API, stateless, for every provider (src/responses/ does the
 * work): native where the provider serves it, translated to chat completions elsewhere.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallContext, Gateway } from '../gateway.js';
import { createResponse, streamResponse } from '../responses/index.js';
import { validateResponsesRequest } from '../responses/to-chat.js';
import { targetHeaders } from './call-headers.js';
import { relayEvents } from './event-stream.js';
import { parseJsonBody, readBody, sendJson } from './http.js';

export async function responses(gateway: Gateway, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, maxBody: number, ctx: CallContext & { signal: AbortSignal }): Promise<void> {
  const request = validateResponsesRequest(parseJsonBody(await readBody(req, maxBody)));
  const providerId = query.get('provider');
  if (!request.stream) {
    const { response, raw, record } = await createResponse(gateway, request, providerId, ctx);
    sendJson(res, 200, raw ?? response, targetHeaders(record));
    return;
  }
  const { items, record } = await streamResponse(gateway, request, providerId, ctx);
  // A failure after the headers: the Responses stream's own error event; no response.completed follows.
  await relayEvents(res, targetHeaders(record), items, ctx.signal, (e) => ({ type: 'error', code: e.code, message: e.message, param: null }));
}
