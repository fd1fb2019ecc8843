/**
 * POST /v1/messages: Anthropic's Messages API for every provider (src/messages/ does the work), so the
 * Anthropic SDK and tools built on it work against any configured model. Errors in Anthropic's shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallContext, Gateway } from '../gateway.js';
import { anthropicError } from '../messages/errors.js';
import { createMessage, streamMessage } from '../messages/index.js';
import { validateMessagesRequest } from '../messages/to-chat.js';
import { targetHeaders } from './call-headers.js';
import { relayEvents } from './event-stream.js';
import { parseJsonBody, readBody, sendJson } from './http.js';

export async function messages(gateway: Gateway, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, maxBody: number, ctx: CallContext & { signal: AbortSignal }): Promise<void> {
  const request = validateMessagesRequest(parseJsonBody(await readBody(req, maxBody)));
  const providerId = query.get('provider');
  const beta = req.headers['anthropic-beta'];
  const headers: Record<string, string> = typeof beta === 'string' ? { 'anthropic-beta': beta } : {};
  if (!request.stream) {
    const { message, raw, record } = await createMessage(gateway, request, providerId, headers, ctx);
    sendJson(res, 200, raw ?? message, targetHeaders(record));
    return;
  }
  const { items, record } = await streamMessage(gateway, request, providerId, headers, ctx);
  // A failure after the headers: Anthropic's in-stream error event, as its SDK expects.
  await relayEvents(res, targetHeaders(record), items, ctx.signal, anthropicError);
}
