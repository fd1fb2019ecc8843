/**
 * POST /v1/chat/completions: OpenAI's chat endpoint, JSON or SSE. Chunks are relayed as the
 * upstream's own data text (already JSON), so the hot path parses once and never re-serialises.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallContext, Gateway } from '../gateway.js';
import { ClientGoneError, toGatewayError } from '../errors.js';
import { drained, frameWriter, sseData } from '../sse.js';
import { validateChatRequest } from './chat-request.js';
import { targetHeaders } from './call-headers.js';
import { EVENT_STREAM_HEADERS } from './event-stream.js';
import { parseJsonBody, readBody, sendJson } from './http.js';

export async function chatCompletions(
  gateway: Gateway,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  maxBody: number,
  ctx: CallContext & { signal: AbortSignal },
): Promise<void> {
  const { signal } = ctx;
  const request = validateChatRequest(parseJsonBody(await readBody(req, maxBody)));
  const providerId = query.get('provider');
  if (!request.stream) {
    const { raw, record } = await gateway.chat(request, providerId, ctx);
    sendJson(res, 200, raw, targetHeaders(record));
    return;
  }
  const { chunks, record } = await gateway.chatStream(request, providerId, ctx);
  res.writeHead(200, { ...EVENT_STREAM_HEADERS, ...targetHeaders(record) });
  try {
    const write = frameWriter(res);
    for await (const { data } of chunks) {
      if (!write(sseData(data))) await drained(res, signal);
    }
    res.end(sseData('[DONE]'));
  } catch (error) {
    if (error instanceof ClientGoneError) return;
    // Headers are gone already: say so in-band, and end without [DONE] so no client mistakes it for success.
    res.end(sseData(JSON.stringify({ error: toGatewayError(error).message })));
  }
}
