/** What REST answers tell about the call behind them: the serving target and the caller's budgets. */
import type { CallRecord } from '../gateway.js';

/** Which provider and model served the request; with an alias, which one it was and how many targets were tried. */
export function targetHeaders(record: CallRecord): Record<string, string> {
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
