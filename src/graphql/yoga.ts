/**
 * GraphQL over HTTP and SSE with Yoga, mounted at `/graphql` on the gateway's own server. Yoga only
 * ever sees `/graphql` requests. With auth on, @graphql-yoga/plugin-jwt guards every operation on
 * every transport (auth.ts); the edge hands over only the `Authorization` value, as `auth`.
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { getOperationAST, getVariableValues, type ExecutionArgs, type GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { useJWT } from '@graphql-yoga/plugin-jwt';
import type { TokenVerifier } from '../auth/verifier.js';
import type { CallRecord, Gateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import type { GraphQLContext } from '../schema/builder.js';
import { schema } from '../schema/index.js';
import { jwtOptions, useCaller, useRememberedTokens, type RequestAuth } from './auth.js';
import { useCallExtensions } from './call-extensions.js';
import { useOperationSpan } from './operation-span.js';
import type { Span } from '../telemetry/tracing.js';
import { isClientError, isUpstreamError, toGraphQLError } from './errors.js';
import { useIntrospectionDepthLimit } from './introspection-limits.js';
import { useMediaTypeErrors } from './media-type-errors.js';
import { useTrustedDocuments, type TrustedDocuments } from './trusted-documents.js';

export interface ServerContext {
  /** The caller's `Authorization` value; the JWT plugin verifies it and records who it was. */
  auth?: RequestAuth;
  /** graphql-ws's connection parameters, for WebSocket operations. */
  connectionParams?: Readonly<Record<string, unknown>>;
  /** Set by transports without a Request (WebSocket); HTTP uses the request's own signal. */
  signal?: AbortSignal;
  /** The HTTP request's record of chat calls, for its log line. */
  calls?: CallRecord[];
  /** The HTTP request's id, kept with its usage records. */
  requestId?: string;
  /** Set by the fast path, which words refused variables itself (only when execution fails) and adds the call extensions itself. */
  fastPath?: boolean;
  /** The request's (or WebSocket operation's) SERVER span, when tracing is on. */
  span?: Span;
}

export type GraphQLServer = YogaServerInstance<ServerContext, GraphQLContext>;

/**
 * Document limits: generous for real clients, tight enough that no document is expensive to check.
 * Introspection is measured apart (introspection-limits.ts): the query every client sends is 21
 * levels deep; graphql-js's own rule refuses the nested lists that make introspection costly.
 */
export const DOCUMENT_LIMITS = { depth: 15, introspectionDepth: 30, aliases: 20, tokens: 2000, batch: 5 } as const;

/** `verifier` is undefined when authentication is off. */
export function createGraphQLServer(gateway: Gateway, logger: Logger, verifier?: TokenVerifier, trusted?: TrustedDocuments): GraphQLServer {
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // One CORS policy for both edges, at the server (src/cors.ts): Yoga's own would reflect any
    // origin with credentials allowed.
    cors: false,
    batching: { limit: DOCUMENT_LIMITS.batch },
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      // Yoga reports every error it masked; maskError has logged the internal ones already, and the
      // client's own mistakes and upstream answers are not ours.
      error: (error: unknown, ...rest) => {
        if (isClientError(error) || isUpstreamError(error)) logger.debug({ err: error }, 'graphql request failed');
        else logger.warn({ err: error, args: rest }, 'graphql error reported by Yoga');
      },
    },
    maskedErrors: { maskError: errorMask(logger) },
    // With auth on, useCaller (after useJWT) sets `identity` from the verified token.
    context: ({ request, signal, calls, fastPath, requestId, span }) => ({
      gateway,
      requestId,
      span,
      identity: null,
      signal: signal ?? request.signal,
      calls: [],
      requestCalls: calls,
      fastPath,
    }),
    graphiql: {
      title: 'GraphQL Inference Gateway',
      headers: JSON.stringify({ Authorization: 'Bearer <token>' }, null, 2),
      defaultQuery: DEFAULT_QUERY,
    },
    // Inlined, so the page works in clusters with no internet. Loaded on the first page view: the
    // 9 MB bundle would otherwise cost every replica ~47 MB of memory that only browsers use.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    plugins: [
      ...(verifier ? [useRememberedTokens(verifier), useJWT(jwtOptions(verifier)), useCaller(verifier)] : []),
      ...(trusted?.enabled ? [useTrustedDocuments(trusted)] : []),
      useMediaTypeErrors(),
      useCallExtensions(),
      // Names the SERVER span after the operation (`mutation chatCompletion`); only with tracing on.
      ...(gateway.tracing.enabled ? [useOperationSpan()] : []),
      maxDepthPlugin({ n: DOCUMENT_LIMITS.depth, exposeLimits: true, ignoreIntrospection: true }),
      useIntrospectionDepthLimit(DOCUMENT_LIMITS.introspectionDepth),
      maxAliasesPlugin({ n: DOCUMENT_LIMITS.aliases, exposeLimits: true }),
      maxTokensPlugin({ n: DOCUMENT_LIMITS.tokens, exposeLimits: true }),
      // Compiled execution, cached per document: the interpreter's per-field and per-variable work
      // is most of Yoga's own cost for the small operations a gateway serves (measured: GraphQL
      // mutation ~0.23× → ~0.37× the floor).
      // Subscriptions on the direct transports run compiled too, outside envelop's subscribe
      // (compiled-subscriptions.ts); on Yoga's own, interpreted.
      useGraphQlJit({}, { enableIf: jitSuits }),
    ],
  });
}

const DEFAULT_QUERY = `# Set your token in the Headers tab below, then run.
query Models {
  models {
    id
    provider
  }
}
`;

/**
 * Yoga's error mask, also applied by the direct subscribe (compiled-subscriptions.ts). Internal errors
 * are logged here, where the original is still known: the direct paths bypass Yoga's own error
 * logging, and an internal error must never pass unrecorded.
 */
export function errorMask(logger: Logger): (error: unknown) => GraphQLError {
  return (error) => {
    const masked = toGraphQLError(error);
    if (masked.extensions.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error }, 'graphql internal error');
    return masked;
  };
}

/**
 * Subscriptions are not for graphql-jit's own subscribe, which mishandles enum variables (the direct
 * transports compile their events apart: compiled-subscriptions.ts); nor operations with invalid
 * variables, whose errors the interpreter words far better (it names the variable and path, and
 * Yoga answers 400) than compiled code does. The fast path
 * (fast-path.ts) checks variables only when compiled execution fails, sparing every good request
 * a second coercion.
 */
function jitSuits({ schema, document, operationName, variableValues, contextValue }: ExecutionArgs): boolean {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation === 'subscription') return false;
  if ((contextValue as GraphQLContext | undefined)?.fastPath) return true;
  const definitions = operation.variableDefinitions ?? [];
  if (definitions.length === 0) return true;
  return !getVariableValues(schema, definitions, variableValues ?? {}, { maxErrors: 1 }).errors;
}
