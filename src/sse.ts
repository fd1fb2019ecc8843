/**
 * The gateway's one SSE parser (a maintained one underneath) and one SSE encoder.
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * Parses a byte stream of Server-Sent Events into messages. Leaving early does not destroy a
 * Readable `body`: the caller decides (a body whose `[DONE]` has arrived is read to its end, so its
 * connection is kept; destroying it unfinished costs an AbortError with a stack trace, every stream).
 */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  const decoder = new TextDecoder();
  const source = body instanceof Readable ? body.iterator({ destroyOnReturn: false }) : body;
  for await (const bytes of source) {
    parser.feed(typeof bytes === 'string' ? bytes : decoder.decode(bytes, { stream: true }));
    for (let i = 0; i < pending.length; i++) yield pending[i]!;
    pending.length = 0;
  }
  parser.feed(decoder.decode());
  // A last event without its blank line still counts: some upstreams end the body right after it.
  parser.feed('\n\n');
  yield* pending;
}

/** How long a body whose stream is complete may take to end before it is destroyed. */
const SETTLE_MS = 2000;

/**
 * Reads the rest of a body whose stream is complete (after `[DONE]`: usually nothing but the end),
 * in the background, so its connection can be reused; destroys it if it does not end soon.
 */
export function settle(body: Readable): void {
  if (body.destroyed || body.readableEnded) return;
  const timer = setTimeout(() => body.destroy(), SETTLE_MS).unref();
  body.once('close', () => clearTimeout(timer));
  body.once('end', () => clearTimeout(timer));
  body.on('error', () => {}); // its stream is over: nobody is left to tell
  body.resume();
}

/**
 * Destroys a body its reader leaves unfinished (client gone, stream failed). undici then emits an
 * abort error on it, which nobody reads once parseSse's iterator has let go: without a listener it
 * would be an uncaught exception.
 */
export function discard(body: Readable): void {
  if (body.destroyed) return;
  body.on('error', () => {});
  body.destroy();
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

/**
 * How the relays (REST chat, Messages/Responses, GraphQL over SSE) write a stream's frames: the
 * returned function writes one and says, as `res.write` does, whether the client takes more (else
 * wait with `drained`). The first frame is sent at once: Node corks a response's socket on every
 * write until the next tick, and the next tick waits for the microtask queue to drain, so when an
 * upstream's chunks arrive together (a fast model, a cached answer) the whole burst is relayed in
 * one run of microtasks and its first chunk would leave only with the last. Later frames of a
 * burst still go out together, in one write.
 */
export function frameWriter(res: ServerResponse): (frame: string) => boolean {
  let first = true;
  return (frame) => {
    const more = res.write(frame);
    if (first) {
      first = false;
      if (res.socket?.writableCorked) res.socket.uncork();
    }
    return more;
  };
}
