/**
 * ANY /proxy/{provider}/{path…}: raw passthrough to the provider's base URL with its credentials.
 * The caller's own credentials and hop-by-hop headers stay on this side.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import type { CallContext, Gateway } from '../gateway.js';
import { BadRequestError } from '../errors.js';
import { readBody } from './http.js';

const DROP_REQUEST = new Set([
  'authorization', 'x-api-key', 'cookie', 'host', 'connection', 'keep-alive', 'proxy-authorization',
  'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'expect',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'set-cookie']);

export async function proxy(
  gateway: Gateway,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: string,
  maxBody: number,
  { signal, identity, span: parent }: CallContext & { signal: AbortSignal },
) {
  // path is `/proxy/<provider>/<rest>`
  const rest = path.slice('/proxy/'.length);
  const slash = rest.indexOf('/');
  const providerId = decodeSegment(slash === -1 ? rest : rest.slice(0, slash));
  if (!providerId) throw new BadRequestError('Name a provider: /proxy/{provider}/{path}');
  const provider = gateway.provider(providerId);
  await gateway.admitProxy(provider, identity);
  const upstreamPath = (slash === -1 ? '/' : rest.slice(slash)) + (query ? `?${query}` : '');
  if (escapesBase(upstreamPath)) throw new BadRequestError('Proxy path must stay below the provider base URL (no . or .. segments)');
  const method = (req.method ?? 'GET') as Dispatcher.HttpMethod;
  const body = method === 'GET' || method === 'HEAD' ? null : await readBody(req, maxBody);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!DROP_REQUEST.has(name) && typeof value === 'string') headers[name] = value;
  }
  const { tracing } = gateway;
  // With tracing on, a CLIENT span of its own; the provider gets its traceparent rather than the caller's.
  const span = tracing.enabled ? tracing.startProxyCall(parent, provider.id, method, provider.upstream.origin, upstreamPath.split('?')[0]!) : undefined;
  const send = () => provider.upstream.open({ method, path: upstreamPath, headers, body, signal }, { errorsAsExceptions: false });
  let upstream;
  try {
    upstream = await (span ? tracing.within(span, send) : send());
  } catch (error) {
    if (span) tracing.proxyEnded(span, undefined, error);
    throw error;
  }
  const responseHeaders: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (!DROP_RESPONSE.has(name) && value !== undefined) responseHeaders[name] = value;
  }
  res.writeHead(upstream.statusCode, responseHeaders);
  try {
    await pipeline(upstream.body, res);
  } catch {
    // Either side went away mid-body; pipeline has already torn both down.
  } finally {
    if (span) tracing.proxyEnded(span, upstream.statusCode);
  }
}

/** `..` (or its percent-encoded form) would let a caller reach past the provider's base path. */
function escapesBase(path: string): boolean {
  return path
    .split('?')[0]!
    .split('/')
    .some((segment) => {
      const decoded = segment.replace(/%2e/gi, '.');
      return decoded === '..' || decoded === '.';
    });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError(`Malformed percent-encoding in provider name '${segment}'`);
  }
}
