/**
 * A provider's chat stream as another API's events (Messages, Responses), for the doors that
 * translate: each translator turns chunks into that API's events; this relays them as NativeEvents,
 * like a native stream's. When the upstream never reported usage, the closing event's usage is the
 * translator's zeros: it is marked `unreported`, so the door's meter leaves the count to the
 * gateway's estimate instead of charging nothing.
 */
import type { NativeEvent } from './provider.js';
import type { ChatCompletionChunk } from './types.js';

/** An API's event: its `type` names it on the wire (`event:`). */
type ApiEvent = Record<string, any>;

export interface ChatStreamTranslator {
  start?(): ApiEvent[];
  push(chunk: ChatCompletionChunk): ApiEvent[];
  end(): ApiEvent[];
}

/** A translated event; `unreported` on the one carrying usage the upstream never gave. */
export type TranslatedEvent = NativeEvent & { unreported?: boolean };

export async function* translatedEvents(
  chunks: AsyncIterable<{ chunk: ChatCompletionChunk }>,
  translator: ChatStreamTranslator,
  carriesUsage: (event: ApiEvent) => boolean,
): AsyncGenerator<TranslatedEvent> {
  const emit = (events: ApiEvent[], reported = true) =>
    events.map((e): TranslatedEvent => {
      const event: TranslatedEvent = { event: String(e.type), data: JSON.stringify(e), parsed: e };
      return reported || !carriesUsage(e) ? event : { ...event, unreported: true };
    });
  if (translator.start) yield* emit(translator.start());
  let reported = false;
  for await (const { chunk } of chunks) {
    if (chunk.usage) reported = true;
    yield* emit(translator.push(chunk));
  }
  yield* emit(translator.end(), reported);
}
