/**
 * The gateway's one SSE parser (a maintained one underneath) and one SSE encoder.
 */
import type { ServerResponse } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Parses a byte stream of Server-Sent Events into messages. */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  const decoder = new TextDecoder();
  for await (const bytes of body) {
    parser.feed(typeof bytes === 'string' ? bytes : decoder.decode(bytes, { stream: true }));
    for (let i = 0; i < pending.length; i++) yield pending[i]!;
    pending.length = 0;
  }
  parser.feed(decoder.decode());
  // A last event without its blank line still counts: some upstreams end the body right after it.
  parser.feed('\n\n');
  yield* pending;
}

/** One `data:` frame. `data` must be a single line (JSON text is). */
export function sseData(data: string): string {
  return `data: ${data}\n\n`;
}

/** One named event (`event:` + `data:`), as Anthropic's and OpenAI Responses' streams frame them. */
export function sseEvent(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/**
 * Waits for the socket to take more, so a slow client slows the upstream instead of filling memory.
 * Also ends when the response closes or `signal` fires (already fired: at once), never hanging on a
 * connection that is gone.
 */
export function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
