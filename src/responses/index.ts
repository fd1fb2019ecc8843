/**
 * The Responses door's use of the gateway core, as the Messages door's (src/messages/index.ts):
 * native where the provider serves the Responses API (catalog.ts `responses`), translated to and from
 * chat completions elsewhere; fallbacks may mix both.
 */
import type { CallContext, Gateway, Route, StreamMeter } from '../gateway.js';
import { promptCharsOf } from '../gateway.js';
import type { NativeEvent } from '../providers/provider.js';
import { translatedEvents, type TranslatedEvent } from '../providers/translated-events.js';
import type { Usage } from '../providers/types.js';
import { ResponsesStreamTranslator, toResponse } from './from-chat.js';
import { toChatRequest, type ResponsesRequest } from './to-chat.js';

export async function createResponse(gateway: Gateway, request: ResponsesRequest, providerId: string | null, ctx: CallContext) {
  const { alias, routes } = gateway.targets(request.model, providerId, ctx.identity);
  const { result, record } = await gateway.call(
    'chat',
    routes,
    alias,
    ctx,
    async (r) => {
      if (r.provider.spec.responses) {
        const { body, raw } = await r.provider.native(r.provider.spec.responses, { ...request, model: r.model, stream: false, store: false }, ctx.signal);
        return { response: body, raw: raw as string | undefined, usage: chatUsage(body.usage) };
      }
      const { completion } = await r.provider.chat(toChatRequest(request), r.model, ctx.signal);
      return { response: toResponse(completion, request), raw: undefined, usage: completion.usage };
    },
    (answer) => answer.usage,
    request,
  );
  return { response: result.response, raw: result.raw, record };
}

export async function streamResponse(gateway: Gateway, request: ResponsesRequest, providerId: string | null, ctx: CallContext) {
  const { alias, routes } = gateway.targets(request.model, providerId, ctx.identity);
  const open = async (r: Route): Promise<AsyncGenerator<NativeEvent>> => {
    if (r.provider.spec.responses) return r.provider.nativeStream(r.provider.spec.responses, { ...request, model: r.model, stream: true, store: false }, ctx.signal);
    const chunks = await r.provider.chatStream(toChatRequest(request), r.model, ctx.signal);
    return translatedEvents(chunks, new ResponsesStreamTranslator(request), (e) => e.type === 'response.completed' || e.type === 'response.incomplete');
  };
  const prompt = typeof request.input === 'string' ? request.input.length : promptCharsOf(request.input as { content?: unknown }[]);
  return gateway.stream(routes, alias, ctx, open, meter, prompt, request);
}


/** Usage comes once, with the final response; text deltas count toward an estimate until then. */
const meter: StreamMeter<TranslatedEvent> = ({ parsed, unreported }) => {
  if ((parsed.type === 'response.completed' || parsed.type === 'response.incomplete') && parsed.response?.usage && !unreported) return { usage: chatUsage(parsed.response.usage) };
  if (parsed.type === 'response.output_text.delta' || parsed.type === 'response.function_call_arguments.delta') return { text: String(parsed.delta ?? '').length };
  return {};
};

function chatUsage(usage: Record<string, any> | undefined): Partial<Usage> {
  const input = Number(usage?.input_tokens) || 0;
  const output = Number(usage?.output_tokens) || 0;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: Number(usage?.input_tokens_details?.cached_tokens) || 0 },
    completion_tokens_details: { reasoning_tokens: Number(usage?.output_tokens_details?.reasoning_tokens) || 0 },
  };
}
