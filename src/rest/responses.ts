/**
 * POST /v1/responses: OpenAI's Responses API, stateless, for every provider (src/responses/ does the
 * work): native where the provider serves it, translated to chat completions elsewhere.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientGoneError, toGatewayError } from '../errors.js';
import type { CallContext, Gateway } from '../gateway.js';
import { createResponse, streamResponse } from '../responses/index.js';
import { validateResponsesRequest } from '../responses/to-chat.js';
import { drained, sseEvent } from '../sse.js';
import { targetHeaders } from './call-headers.js';
import { parseJsonBody, readBody, sendJson } from './http.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' };

export async function responses(gateway: Gateway, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, maxBody: number, ctx: CallContext & { signal: AbortSignal }): Promise<void> {
  const request = validateResponsesRequest(parseJsonBody(await readBody(req, maxBody)));
  const providerId = query.get('provider');
  if (!request.stream) {
    const { response, raw, record } = await createResponse(gateway, request, providerId, ctx);
    sendJson(res, 200, raw ?? response, targetHeaders(record));
    return;
  }
  const { items, record } = await streamResponse(gateway, request, providerId, ctx);
  res.writeHead(200, { ...SSE_HEADERS, ...targetHeaders(record) });
  try {
    for await (const { event, data } of items) {
      if (!res.write(sseEvent(event, data))) await drained(res, ctx.signal);
    }
    res.end();
  } catch (error) {
    if (error instanceof ClientGoneError) return;
    const e = toGatewayError(error);
    // The Responses stream's own error event; no response.completed follows, so no client takes it for whole.
    res.end(sseEvent('error', JSON.stringify({ type: 'error', code: e.code, message: e.message, param: null })));
  }
}
