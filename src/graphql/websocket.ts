/**
 * GraphQL over WebSocket (`graphql-transport-ws`) on `/graphql`, executed by the same Yoga instance
 * (same schema, limits, error masking and JWT plugin). The token travels in
 * `connectionParams.Authorization` (or the upgrade request's header): the JWT plugin checks it when
 * the connection opens (a refusal closes it with 4401) and again for every operation, so a token
 * that expires while the socket is open stops being accepted.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Context } from 'graphql-ws';
import type { Identity } from '../auth/identity.js';
import type { RequestAuth } from './auth.js';
import { toGraphQLError } from './errors.js';
import { callLogFields, type CallRecord } from '../gateway.js';
import type { Cors } from '../cors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { OperationParams, TrustedDocuments } from './trusted-documents.js';
import type { Logger } from '../logger.js';
import { errorMask, type GraphQLServer } from './yoga.js';
import { subscribeDirect } from './compiled-subscriptions.js';
import { NO_TRACING, type Span, type Tracing } from '../telemetry/tracing.js';

/** The context built at connect time runs no operation; nothing needs to abort it. */
const CONNECT_SIGNAL = new AbortController().signal;

/** What a connection carries from `onConnect` to its operations. */
type ConnectionState = {
  /** The `Authorization` value the connection presented. */
  authorization: string | undefined;
  identity: Identity | null;
  /** Operations in flight by id, for their log line. */
  operations?: Map<string, Operation>;
  /** Aborted when the socket closes or the gateway cuts in-flight work. */
  signal: AbortSignal;
  release: () => void;
};

interface Operation {
  started: number;
  name: string | undefined;
  calls: CallRecord[];
  /** The operation's SERVER span, when tracing is on. */
  span?: Span;
}

type Enveloped = ReturnType<GraphQLServer['getEnveloped']>;
interface RootValue {
  execute: Enveloped['execute'];
  subscribe: (args: ExecutionArgs) => ReturnType<typeof subscribeDirect>;
}

export function attachGraphQLWebSocket(server: Server, yoga: GraphQLServer, lifecycle: Lifecycle, logger: Logger, cors: Cors, trusted: TrustedDocuments, tracing: Tracing = NO_TRACING) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const mask = errorMask(logger);
  const connections = new Set<Context<Record<string, unknown> | undefined, unknown>>();
  let accepting = true;
  let onIdle: (() => void) | undefined;
  const activeCount = () => [...connections].reduce((n, ctx) => n + Object.keys(ctx.subscriptions).length, 0);
  // graphql-ws forgets a finished operation right after its hooks run; look once it has.
  const checkIdle = () => setImmediate(() => activeCount() === 0 && onIdle?.());

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/graphql' || !accepting) {
      const status = accepting ? '404 Not Found' : '503 Service Unavailable';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    if (!cors.allowsUpgrade(req)) {
      // Browsers always send Origin on a WebSocket and apply no CORS to it: the server must refuse.
      const body = JSON.stringify({ error: `Origin ${req.headers.origin} is not allowed to call this gateway; list it in CORS_ALLOWED_ORIGINS` });
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
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
        const auth: RequestAuth = { authorization: typeof header === 'string' ? header : undefined, identity: null };
        try {
          // Building a context runs the JWT plugin: the connection is refused before any operation.
          await yoga.getEnveloped({ auth, connectionParams: params, signal: CONNECT_SIGNAL }).contextFactory();
        } catch (error) {
          // 4401 tells graphql-ws clients this is an auth failure, not a protocol error.
          ctx.extra.socket.close(4401, toGraphQLError(error).message.slice(0, 120));
          return false;
        }
        Object.assign(ctx.extra, { authorization: auth.authorization, identity: auth.identity });
        const { signal, release } = lifecycle.connectionSignal();
        Object.assign(ctx.extra, { signal, release });
        connections.add(ctx);
        return true;
      },
      onClose: (ctx) => {
        for (const [id, op] of ctx.extra.operations ?? []) logOperation(ctx.extra, id, op, 'closed');
        ctx.extra.release?.();
        connections.delete(ctx);
        checkIdle();
      },
      onComplete: (ctx, id) => {
        const op = ctx.extra.operations?.get(id);
        if (op) logOperation(ctx.extra, id, op, 'complete');
        checkIdle();
      },
      onSubscribe: async (ctx, id, message) => {
        let payload = message;
        try {
          // A persisted id (`extensions.persistedQuery` or `documentId`, with `query: ""`) becomes its document.
          payload = trusted.resolve(message as typeof message & OperationParams);
        } catch (error) {
          return [toGraphQLError(error)];
        }
        const calls: CallRecord[] = [];
        // One SERVER span per operation, continuing the trace of the upgrade request's `traceparent`.
        const span = tracing.enabled ? tracing.startRequest(ctx.extra.request, '/graphql', '/graphql', undefined, 'websocket') : undefined;
        (ctx.extra.operations ??= new Map()).set(id, { started: performance.now(), name: payload.operationName ?? undefined, calls, span });
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          auth: { authorization: ctx.extra.authorization, identity: null },
          connectionParams: ctx.connectionParams ?? {},
          signal: ctx.extra.signal!,
          params: payload,
          calls,
          span,
        });
        let document;
        let contextValue;
        try {
          // The context first: the JWT plugin checks the token again (it may have expired since).
          contextValue = await contextFactory();
          document = parse(payload.query);
        } catch (error) {
          return [toGraphQLError(error)];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const args: ExecutionArgs = {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe: (a: ExecutionArgs) => subscribeDirect(a, subscribe, mask) } satisfies RootValue,
        };
        return args;
      },
      execute: (args) => (args.rootValue as RootValue).execute(args),
      subscribe: (args) => (args.rootValue as RootValue).subscribe(args),
      onError: (ctx, id, _payload, errors) => {
        logger.debug({ errors: errors.map((e) => e.message) }, 'graphql-ws operation failed');
        const op = ctx.extra.operations?.get(id);
        if (op) logOperation(ctx.extra, id, op, 'error');
      },
    },
    wss,
  );

  /** One log line per WebSocket operation, like the one per HTTP request. */
  function logOperation(state: Partial<ConnectionState>, id: string, op: Operation, outcome: string): void {
    state.operations?.delete(id);
    if (op.span) tracing.endRequest(op.span, { outcome, identity: state.identity ?? null });
    if (!logger.isLevelEnabled('info')) return;
    const line: Record<string, unknown> = {
      transport: 'websocket',
      operation: op.name,
      outcome,
      ms: Math.round((performance.now() - op.started) * 10) / 10,
      subject: state.identity?.subject,
      client: state.identity?.clientId,
    };
    if (op.span) Object.assign(line, tracing.logFields(op.span));
    logger.info(Object.assign(line, callLogFields(op.calls)), 'graphql-ws operation');
  }

  return {
    stopAccepting() {
      accepting = false;
    },
    activeCount,
    /** Resolves when no operation runs, or when `signal` fires. */
    drained(signal: AbortSignal): Promise<void> {
      if (activeCount() === 0 || signal.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        onIdle = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
    async close() {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
