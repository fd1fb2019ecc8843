/**
 * The server: one `node:http` listener, one port. The pipeline, in order: health (always open),
 * authentication, then `/graphql` to Yoga and everything else to the REST shim.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { Gateway } from './gateway.js';
import { createLogger, type Logger } from './logger.js';
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
  const authenticate = async (_authorization: string | undefined) => null;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    try {
      if (path === '/health') return sendJson(res, 200, { message: 'OK' });
      if (path === '/graphql') {
        const identity = await authenticate(req.headers.authorization);
        return void (await yoga(req, res, { identity }));
      }
      await rest(req, res, path, query);
    } catch (error) {
      if (!(error instanceof Error && 'status' in error)) logger.error({ err: error, path }, 'unexpected error');
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
