/**
 * GraphQL over WebSocket (`graphql-transport-ws`) on `/graphql`, executed by the same Yoga instance
 * (same schema, limits and error masking). The token travels in `connectionParams.Authorization`.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Identity } from '../auth/identity.js';
import { toGatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GraphQLServer } from './yoga.js';

export type Authenticate = (authorization: string | undefined) => Promise<Identity | null>;

/** What a connection carries from `onConnect` to its operations. */
type ConnectionState = {
  identity: Identity | null;
  /** Aborted when the socket closes. */
  closed: AbortController;
};

type Enveloped = ReturnType<GraphQLServer['getEnveloped']>;
interface RootValue {
  execute: Enveloped['execute'];
  subscribe: Enveloped['subscribe'];
}

export function attachGraphQLWebSocket(server: Server, yoga: GraphQLServer, authenticate: Authenticate, logger: Logger) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  const disposable = useServer<Record<string, unknown> | undefined, ConnectionState>(
    {
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const header = params.Authorization ?? params.authorization ?? ctx.extra.request.headers.authorization;
        try {
          ctx.extra.identity = await authenticate(typeof header === 'string' ? header : undefined);
        } catch (error) {
          // 4401 tells graphql-ws clients this is an auth failure, not a protocol error.
          ctx.extra.socket.close(4401, toGatewayError(error).message.slice(0, 120));
          return false;
        }
        const closed = new AbortController();
        ctx.extra.socket.once('close', () => closed.abort());
        ctx.extra.closed = closed;
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          identity: ctx.extra.identity ?? null,
          signal: ctx.extra.closed!.signal,
          params: payload,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as never];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const args: ExecutionArgs = {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies RootValue,
        };
        return args;
      },
      execute: (args) => (args.rootValue as RootValue).execute(args),
      subscribe: (args) => (args.rootValue as RootValue).subscribe(args),
      onError: (_ctx, _id, _payload, errors) => {
        logger.debug({ errors: errors.map((e) => e.message) }, 'graphql-ws operation failed');
      },
    },
    wss,
  );

  return {
    async close() {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
