/**
 * Relaying another API's named-event stream (Anthropic Messages, OpenAI Responses) to a REST
 * client: the headers, the events as they come (waiting for a slow client), and, if the stream
 * fails after it started, the API's own error event in place of its closing events.
 */
import type { ServerResponse } from 'node:http';
import { ClientGoneError, toGatewayError, type GatewayError } from '../errors.js';
import { drained, frameWriter, sseEvent } from '../sse.js';

export const EVENT_STREAM_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' };

export async function relayEvents(
  res: ServerResponse,
  headers: Record<string, string>,
  events: AsyncIterable<{ event: string; data: string }>,
  signal: AbortSignal,
  errorEvent: (error: GatewayError) => unknown,
): Promise<void> {
  res.writeHead(200, { ...EVENT_STREAM_HEADERS, ...headers });
  try {
    const write = frameWriter(res);
    for await (const { event, data } of events) {
      if (!write(sseEvent(event, data))) await drained(res, signal);
    }
    res.end();
  } catch (error) {
    if (error instanceof ClientGoneError) return;
    res.end(sseEvent('error', JSON.stringify(errorEvent(toGatewayError(error)))));
  }
}
