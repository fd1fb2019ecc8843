/**
 * The server: one `node:http` listener, one port. The pipeline, in order: health (always open),
 * authentication, then `/graphql` to Yoga and everything else to the REST shim.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { Gateway } from './gateway.js';
import { createLogger, type Logger } from './logger.js';
import { TokenVerifier } from './auth/verifier.js';
import type { Identity } from './auth/identity.js';
import { GatewayError, toGatewayError } from './errors.js';
import { createGraphQLServer } from './graphql/yoga.js';
import { attachGraphQLWebSocket } from './graphql/websocket.js';
import { createRestHandler } from './rest/router.js';
import { sendError, sendJson } from './rest/http.js';

export interface GatewayServer {
  readonly url: string;
  readonly server: Server;
  readonly gateway: Gateway;
  readonly logger: Logger;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

export async function startGateway(config: Config, options: StartOptions = {}): Promise<GatewayServer> {
  const logger = options.logger ?? createLogger(config.environment);
  const gateway = new Gateway(config, logger);
  const rest = createRestHandler(gateway, config.server.maxRequestBodySize);
  const yoga = createGraphQLServer(gateway, logger);
  const verifier = config.auth.enabled ? new TokenVerifier(config.auth, logger) : undefined;
  verifier?.warmUp();
  const authenticate = verifier
    ? (authorization: string | undefined) => verifier.authenticate(authorization)
    : async () => null;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    let identity: Identity | null = null;
    res.once('close', () => {
      // One line per request; the query string stays out (it may carry what a client should not have sent).
      logger.info(
        { method: req.method, path, status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10, subject: identity?.subject, client: identity?.clientId },
        'request',
      );
    });
    try {
      if (path === '/health') return sendJson(res, 200, { message: 'OK' });
      if (path === '/graphql') {
        // The GraphiQL page itself loads without a token; every operation needs one.
        if (!isGraphiQLPage(req)) {
          try {
            identity = await authenticate(req.headers.authorization);
          } catch (error) {
            return sendGraphQLError(res, error);
          }
        }
        return void (await yoga(req, res, { identity }));
      }
      identity = await authenticate(req.headers.authorization);
      await rest(req, res, path, query);
    } catch (error) {
      if (!(error instanceof GatewayError)) logger.error({ err: error, path }, 'unexpected error');
      sendError(res, error);
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const websocket = attachGraphQLWebSocket(server, yoga, authenticate, logger);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    gateway,
    logger,
    async close() {
      await websocket.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
    },
  };
}

function isGraphiQLPage(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
}

/** Errors raised before Yoga runs (authentication) still answer in GraphQL's shape. */
function sendGraphQLError(res: ServerResponse, error: unknown): void {
  const e = toGatewayError(error);
  sendJson(res, e.status, { errors: [{ message: e.message, extensions: { code: e.code, ...e.extensions } }] }, { ...e.headers });
}
