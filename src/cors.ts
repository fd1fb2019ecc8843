/**
 * One CORS policy for both edges (REST and GraphQL, and WebSocket upgrades), from
 * CORS_ALLOWED_ORIGINS; closed by default. Tokens travel in `Authorization`, never in cookies, so
 * there is no credentials mode: `access-control-allow-credentials` is never sent (what Yoga's own
 * CORS would reflect for any origin, and scanners flag).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Request headers a browser app may send: ours, and those the OpenAI and Anthropic SDKs and GraphQL clients add. */
const BASE_ALLOWED_HEADERS = ['authorization', 'content-type', 'x-request-id'];
const CLIENT_HEADER = /^(x-stainless-[a-z0-9-]+|openai-(organization|project|beta)|anthropic-(version|beta|dangerous-direct-browser-access)|x-api-key|apollo-require-preflight|x-apollo-operation-name|graphql-client-(name|version)|traceparent|tracestate)$/;
/** Response headers a browser app may read. */
const EXPOSED_HEADERS = [
  'x-request-id',
  'retry-after',
  'www-authenticate',
  'x-gateway-provider',
  'x-gateway-model',
  'x-gateway-alias',
  'x-gateway-attempts',
  ...['requests', 'tokens'].flatMap((kind) => ['limit', 'remaining', 'reset'].map((what) => `x-ratelimit-${what}-${kind}`)),
].join(', ');
const ALLOWED_METHODS = 'GET, POST, OPTIONS';

export interface Cors {
  /** Adds the CORS headers a response to this request needs; answers a preflight. True when it answered. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Whether a WebSocket upgrade may proceed: no Origin (not a browser), the gateway's own origin, or an allowed one. */
  allowsUpgrade(req: IncomingMessage): boolean;
}

export function createCors(origins: readonly string[] | '*'): Cors {
  const any = origins === '*';
  const allowed = new Set(any ? [] : origins);
  const allows = (origin: string) => any || allowed.has(origin);
  return {
    handle(req, res) {
      const origin = req.headers.origin;
      if (!origin) return false;
      const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (!allows(origin)) {
        if (!preflight) return false; // served as to any client; the browser keeps the answer from the page
        const body = JSON.stringify({ error: `Origin ${origin} is not allowed to call this gateway; list it in CORS_ALLOWED_ORIGINS` });
        res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), vary: 'Origin' });
        res.end(body);
        return true;
      }
      res.setHeader('access-control-allow-origin', any ? '*' : origin);
      if (!any) res.setHeader('vary', 'Origin');
      if (!preflight) {
        res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
        return false;
      }
      res.writeHead(204, {
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': allowedHeaders(req.headers['access-control-request-headers']),
        'access-control-max-age': '600',
        'content-length': '0',
      });
      res.end();
      return true;
    },
    allowsUpgrade(req) {
      const origin = req.headers.origin;
      if (!origin || allows(origin)) return true;
      try {
        return new URL(origin).host === req.headers.host;
      } catch {
        return false;
      }
    },
  };
}

/** Ours, plus those the preflight asks for that clients are known to send. */
function allowedHeaders(requested: string | undefined): string {
  const headers = new Set(BASE_ALLOWED_HEADERS);
  for (const name of (requested ?? '').split(',')) {
    const h = name.trim().toLowerCase();
    if (CLIENT_HEADER.test(h)) headers.add(h);
  }
  return [...headers].join(', ');
}
