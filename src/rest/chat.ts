/**
 * POST /v1/chat/completions: OpenAI's chat endpoint, JSON or SSE. Chunks are relayed as the
 * upstream's own data text (already JSON), so the hot path parses once and never re-serialises.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallContext, CallRecord, Gateway } from '../gateway.js';
import { ClientGoneError, toGatewayError } from '../errors.js';
import { drained, sseData } from '../sse.js';
import { validateChatRequest } from './chat-request.js';
import { parseJsonBody, readBody, sendJson } from './http.js';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

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
  res.writeHead(200, { ...SSE_HEADERS, ...targetHeaders(record) });
  try {
    for await (const { data } of chunks) {
      if (!res.write(sseData(data))) await drained(res, signal);
    }
    res.end(sseData('[DONE]'));
  } catch (error) {
    if (error instanceof ClientGoneError) return;
    // Headers are gone already: say so in-band, and end without [DONE] so no client mistakes it for success.
    res.end(sseData(JSON.stringify({ error: toGatewayError(error).message })));
  }
}

/** Which provider and model served the request; with an alias, which one it was and how many targets were tried. */
function targetHeaders(record: CallRecord): Record<string, string> {
  const headers: Record<string, string> = { 'x-gateway-provider': record.provider, 'x-gateway-model': headerValue(record.model) };
  if (record.alias) {
    headers['x-gateway-alias'] = headerValue(record.alias);
    headers['x-gateway-attempts'] = String(record.attempts);
  }
  // OpenAI's names, so SDKs and dashboards that read them work unchanged.
  for (const [kind, window] of [['requests', record.budget?.requests], ['tokens', record.budget?.tokens]] as const) {
    if (!window) continue;
    headers[`x-ratelimit-limit-${kind}`] = String(window.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(window.remaining);
    headers[`x-ratelimit-reset-${kind}`] = `${window.resetSeconds}s`;
  }
  return headers;
}

/** Model names are the client's own strings: anything a header can't carry is percent-encoded. */
function headerValue(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text);
}
