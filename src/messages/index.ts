/**
 * The Messages door's use of the gateway core: one call (or stream) through routing, role rules,
 * budgets, fallbacks and metrics, served natively by providers that speak the Messages API
 * (catalog.ts `messages`) and translated to and from chat completions for every other one. A
 * fallback alias may mix both kinds of target.
 */
import { UpstreamUnavailableError } from '../errors.js';
import type { CallContext, Gateway, Route, StreamMeter } from '../gateway.js';
import { promptCharsOf } from '../gateway.js';
import type { NativeEvent } from '../providers/provider.js';
import { translatedEvents, type TranslatedEvent } from '../providers/translated-events.js';
import type { Usage } from '../providers/types.js';
import { StreamTranslator, toMessage } from './from-chat.js';
import { toChatRequest } from './to-chat.js';
import type { MessagesRequest } from './types.js';

/** The client's headers a native Messages provider gets (beta features such as prompt caching). */
export type PassedHeaders = Record<string, string>;

export async function createMessage(gateway: Gateway, request: MessagesRequest, providerId: string | null, headers: PassedHeaders, ctx: CallContext) {
  const { alias, routes } = gateway.targets(request.model, providerId, ctx.identity);
  const { route, result, record } = await gateway.call(
    'chat',
    routes,
    alias,
    ctx,
    async (r) => {
      if (r.provider.spec.messages) {
        const { body: message, raw } = await r.provider.native(r.provider.spec.messages, { ...request, model: r.model, stream: false }, ctx.signal, { anthropic: true, headers });
        if (!Array.isArray(message.content)) throw new UpstreamUnavailableError(r.provider.id, 'upstream answered without message content');
        return { message, raw: raw as string | undefined, usage: chatUsage(message.usage) };
      }
      const { completion } = await r.provider.chat(toChatRequest(request), r.model, ctx.signal);
      return { message: toMessage(completion, request.model) as unknown as Record<string, any>, raw: undefined, usage: completion.usage };
    },
    (answer) => answer.usage,
    request,
  );
  return { route, message: result.message, raw: result.raw, record };
}

/** A Messages stream: Anthropic's events, the provider's own or translated from its chat stream. */
export async function streamMessage(gateway: Gateway, request: MessagesRequest, providerId: string | null, headers: PassedHeaders, ctx: CallContext) {
  const { alias, routes } = gateway.targets(request.model, providerId, ctx.identity);
  const open = async (r: Route): Promise<AsyncGenerator<NativeEvent>> => {
    if (r.provider.spec.messages) return r.provider.nativeStream(r.provider.spec.messages, { ...request, model: r.model, stream: true }, ctx.signal, { anthropic: true, headers });
    const chunks = await r.provider.chatStream(toChatRequest(request), r.model, ctx.signal);
    return translatedEvents(chunks, new StreamTranslator(request.model), (e) => e.type === 'message_delta');
  };
  const prompt = promptCharsOf(request.messages) + (typeof request.system === 'string' ? request.system.length : 0);
  return gateway.stream(routes, alias, ctx, open, meter(), prompt, request);
}


/**
 * Usage from Anthropic's events: input and cache counters in message_start, cumulative totals in
 * message_delta (a counter it leaves out keeps message_start's value).
 */
function meter(): StreamMeter<TranslatedEvent> {
  let started: Record<string, unknown> = {};
  return ({ parsed, unreported }) => {
    if (parsed.type === 'message_start') {
      started = { ...parsed.message?.usage };
      return {};
    }
    if (parsed.type === 'message_delta' && parsed.usage && !unreported) {
      const totals = { ...started };
      for (const [key, value] of Object.entries(parsed.usage)) if (value != null) totals[key] = value;
      return { usage: chatUsage(totals) };
    }
    if (parsed.type === 'content_block_delta') {
      const d = parsed.delta ?? {};
      return { text: String(d.text ?? d.thinking ?? d.partial_json ?? '').length };
    }
    return {};
  };
}

/** Anthropic's usage in chat terms (cache reads count as prompt tokens there). */
function chatUsage(usage: Record<string, any> | undefined): Partial<Usage> {
  const cached = Number(usage?.cache_read_input_tokens) || 0;
  const input = (Number(usage?.input_tokens) || 0) + cached + (Number(usage?.cache_creation_input_tokens) || 0);
  const output = Number(usage?.output_tokens) || 0;
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output, prompt_tokens_details: { cached_tokens: cached } };
}
