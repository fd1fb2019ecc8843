/**
 * The server: one `node:http` listener, one port. The pipeline, in order: CORS (preflights answered
 * for both edges alike), health, probes (health.ts) and metrics (always open), then `/graphql` (authenticated inside Yoga's pipeline by @graphql-yoga/plugin-jwt, on every
 * transport) and everything else to the REST shim (authenticated here by the same verifier).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Identity } from './auth/identity.js';
import { TokenVerifier } from './auth/verifier.js';
import type { Config } from './config.js';
import { GatewayError, toGatewayError } from './errors.js';
import { callLogFields, Gateway, upstreamMsOf, type CallRecord } from './gateway.js';
import { attachGraphQLWebSocket } from './graphql/websocket.js';
import type { RequestAuth } from './graphql/auth.js';
import { toGraphQLError } from './graphql/errors.js';
import { publicError, tryFastPath } from './graphql/fast-path.js';
import { trySseSubscription } from './graphql/sse-subscriptions.js';
import { TrustedDocuments } from './graphql/trusted-documents.js';
import { createGraphQLServer } from './graphql/yoga.js';
import { createCors } from './cors.js';
import { createProbes, LIVE_PATH, READY_PATH } from './health.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { readBody, sendError, sendJson } from './rest/http.js';
import { startTracing } from './telemetry/tracing.js';
import { authorizationOf, createRestHandler, errorBodyFor } from './rest/router.js';

export interface GatewayServer {
  readonly url: string;
  readonly server: Server;
  readonly gateway: Gateway;
  readonly logger: Logger;
  /**
   * Stops gracefully: drain for up to `graceMs` (or until `force` fires), then cut what is left
   * with a "shutting down" error and close everything.
   */
  shutdown(graceMs?: number, force?: AbortSignal): Promise<void>;
  /** Immediate stop, for tests and after shutdown. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

export async function startGateway(config: Config, options: StartOptions = {}): Promise<GatewayServer> {
  const logger = options.logger ?? createLogger(config.environment);
  // Off (no OTLP endpoint): a no-op, and the OpenTelemetry SDK is never loaded.
  const tracing = await startTracing(config.tracing, logger);
  const gateway = new Gateway(config, logger, tracing);
  gateway.start();
  const lifecycle = new Lifecycle();
  const rest = createRestHandler(gateway, config.server.maxRequestBodySize);
  const cors = createCors(config.corsOrigins);
  const verifier = config.auth.enabled ? new TokenVerifier(config.auth, logger) : undefined;
  verifier?.warmUp();
  const probes = createProbes(lifecycle, verifier);
  const trusted = new TrustedDocuments(config.persistedDocuments);
  const yoga = createGraphQLServer(gateway, logger, verifier, trusted);
  const authenticate = verifier
    ? (authorization: string | undefined) => verifier.authenticate(authorization)
    : async () => null;

  const logRequests = logger.isLevelEnabled('info');
  const { metrics } = gateway;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    let identity: Identity | null = null;
    const signal = lifecycle.beginRequest(res);
    const requestId = requestIdOf(req.headers['x-request-id']);
    const calls: CallRecord[] = [];
    const span = tracing.enabled ? tracing.startRequest(req, path, routeOf(path), requestId) : undefined;
    res.setHeader('x-request-id', requestId);
    // Recorded once the response has closed *and* the handler has finished: a stream's usage is
    // only known when its relay loop ends, which may be just after its client went away.
    let pending = 2;
    const settle = () => {
      if (--pending > 0) return;
      const ms = performance.now() - started;
      const route = routeOf(path);
      metrics.httpRequest(req.method ?? 'GET', route, res.statusCode, ms / 1000);
      if (calls.length > 0) metrics.gatewayOverhead(route === '/graphql' ? 'graphql' : 'rest', (ms - upstreamMsOf(calls)) / 1000);
      if (span) tracing.endRequest(span, { status: res.statusCode, identity });
      if (!logRequests) return;
      // One line per request; the query string stays out (it may carry what a client should not have sent).
      const line: Record<string, unknown> = {
        id: requestId,
        method: req.method,
        path,
        status: res.statusCode,
        ms: round(ms),
        subject: identity?.subject,
        client: identity?.clientId,
      };
      if (calls.length > 0) Object.assign(line, callLogFields(calls));
      if (span) Object.assign(line, tracing.logFields(span));
      logger.info(line, 'request');
    };
    res.once('close', settle);
    try {
      if (cors.handle(req, res)) return;
      if (path === '/health') return sendJson(res, 200, { message: 'OK' });
      if (path === LIVE_PATH) return probes.live(res);
      if (path === READY_PATH) return await probes.ready(res);
      if (path === '/metrics' && config.metricsEnabled) return await sendMetrics(res, metrics);
      if (path === '/graphql') {
        // The JWT plugin verifies the token inside Yoga's pipeline (the GraphiQL page itself loads
        // without one) and records the caller here, for the log line.
        const auth: RequestAuth = { authorization: req.headers.authorization, identity: null };
        try {
          if (req.method === 'POST') {
            let body = await readGraphQLBody(req, config.server.maxRequestBodySize);
            // A persisted id becomes its document here for the direct paths; Yoga resolves its own.
            if (trusted.enabled && isOperationObject(body)) body = trusted.resolve(body);
            const direct = { yoga, body, accept: req.headers.accept, res, auth, signal, calls, requestId, span };
            if (await tryFastPath(direct)) return;
            if (await trySseSubscription(direct, logger)) return;
          }
          return void (await yoga(req, res, { auth, signal, calls, requestId, span }));
        } catch (error) {
          return sendGraphQLError(res, error);
        } finally {
          identity = auth.identity;
        }
      }
      identity = await authenticate(authorizationOf(req, path));
      await rest(req, res, path, query, { identity, signal, calls, requestId, span });
    } catch (error) {
      if (!(error instanceof GatewayError)) logger.error({ err: error, path }, 'unexpected error');
      sendError(res, error, errorBodyFor(path));
    } finally {
      settle();
    }
  };

  const server = createServer(
    {
      requestTimeout: config.server.readTimeoutMs,
      headersTimeout: Math.min(config.server.readTimeoutMs || 60_000, 60_000),
      keepAliveTimeout: config.server.idleTimeoutMs,
    },
    (req, res) => void handle(req, res),
  );
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const websocket = attachGraphQLWebSocket(server, yoga, lifecycle, logger, cors, trusted, tracing);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closed: Promise<void> | undefined;
  const closeNow = () =>
    (closed ??= (async () => {
      lifecycle.cutInflight();
      await websocket.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      // Last: the spans of requests cut above have ended; export what is queued (bounded).
      await tracing.shutdown();
    })());

  return {
    url: `http://${host}:${address.port}`,
    server,
    gateway,
    logger,
    async shutdown(graceMs = config.server.shutdownTimeoutMs, force) {
      lifecycle.startDraining(); // /health/ready → 503 on connections still open
      server.close(); // no new connections; idle keep-alive ones are closed by Node
      server.closeIdleConnections();
      websocket.stopAccepting();
      logger.info({ inflight: lifecycle.inflightCount + websocket.activeCount(), graceMs }, 'draining');
      const deadline = AbortSignal.timeout(graceMs);
      const stop = force ? AbortSignal.any([deadline, force]) : deadline;
      await Promise.all([lifecycle.drained(stop), websocket.drained(stop)]);
      if (lifecycle.inflightCount + websocket.activeCount() > 0) {
        logger.warn({ inflight: lifecycle.inflightCount + websocket.activeCount() }, 'grace period over: cutting in-flight requests');
        lifecycle.cutInflight();
        // Give the cut requests a moment to write their error and end cleanly.
        await Promise.all([lifecycle.drained(AbortSignal.timeout(2000)), websocket.drained(AbortSignal.timeout(2000))]);
      }
      await closeNow();
    },
    close: closeNow,
  };
}

/**
 * Reads a GraphQL POST body under the same size limit as REST and hands it to Yoga already read
 * (its Node adapter takes `req.body` when present). JSON is parsed here once, so Yoga doesn't
 * decode and parse it again; anything else goes as bytes for Yoga to judge.
 */
async function readGraphQLBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const bytes = await readBody(req, limit);
  let body: unknown = bytes;
  if ((req.headers['content-type'] ?? '').includes('json')) {
    try {
      const parsed: unknown = JSON.parse(bytes.toString('utf8'));
      // Only a non-empty object or batch is taken as parsed; Yoga judges everything else from the bytes.
      if (parsed !== null && typeof parsed === 'object' && Object.keys(parsed).length > 0) body = parsed;
    } catch {
      // Yoga answers malformed JSON with its own 400.
    }
  }
  (req as IncomingMessage & { body?: unknown }).body = body;
  return body;
}

function isOperationObject(body: unknown): body is Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body) && !Buffer.isBuffer(body);
}

/**
 * Errors raised on the direct paths outside execution (body too large, the JWT plugin's refusal)
 * answer in GraphQL's shape, with the status and headers the error carries (as Yoga does).
 */
function sendGraphQLError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return void res.destroy();
  const graphQLError = toGraphQLError(error);
  const http = graphQLError.extensions.http as { status?: number; headers?: Record<string, string> } | undefined;
  const gatewayError = toGatewayError(error);
  const status = http?.status ?? gatewayError.status;
  sendJson(res, status, { errors: [publicError(graphQLError)] }, { ...gatewayError.headers, ...http?.headers });
}

/** Requests Node's HTTP parser refuses still get the contract's `{"error": …}` answer. */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? ['431 Request Header Fields Too Large', 'Request line and headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['408 Request Timeout', 'Request was not received within SERVER_READ_TIMEOUT']
        : ['400 Bad Request', 'Malformed HTTP request'];
  const body = JSON.stringify({ error: message });
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** A bounded set of route names for metrics (paths themselves are unbounded). */
function routeOf(path: string): string {
  switch (path) {
    case '/v1/chat/completions':
    case '/v1/embeddings':
    case '/v1/messages':
    case '/v1/responses':
    case '/v1/images/generations':
    case '/v1/models':
    case '/graphql':
    case '/health':
    case LIVE_PATH:
    case READY_PATH:
    case '/metrics':
      return path;
    default:
      return path.startsWith('/proxy/') ? '/proxy/{provider}' : 'other';
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function sendMetrics(res: ServerResponse, metrics: Gateway['metrics']): Promise<void> {
  const { contentType, body } = await metrics.render();
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's `x-request-id` when it is a sane token (it ends up in logs), else a new one. */
function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}
