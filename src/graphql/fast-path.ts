/**
 * The common case — one query or mutation POSTed as JSON — run on the plain Node request path with
 * Yoga's own envelop pipeline (the same parse/validate caches, document limits, compiled execution,
 * error masking and context as every other request) but without the Fetch-API Request/Response
 * round trip, which costs more than the execution itself. Batches, subscriptions, other media types
 * and odd parameters are left to Yoga, which answers them as always.
 */
import type { ServerResponse } from 'node:http';
import { getOperationAST, getVariableValues, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import type { CallRecord } from '../gateway.js';
import type { Span } from '../telemetry/tracing.js';
import type { GraphQLContext } from '../schema/builder.js';
import type { RequestAuth } from './auth.js';
import { withCalls } from './call-extensions.js';
import { toGraphQLError } from './errors.js';
import type { GraphQLServer } from './yoga.js';

const PARAMS = new Set(['query', 'variables', 'operationName', 'extensions']);
const GRAPHQL_RESPONSE = 'application/graphql-response+json; charset=utf-8';
const JSON_RESPONSE = 'application/json; charset=utf-8';

export interface Params {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

/** A GraphQL POST as the direct paths (this one and sse-subscriptions.ts) see it: body already read, caller known. */
export interface DirectRequest {
  readonly yoga: GraphQLServer;
  readonly body: unknown;
  readonly accept: string | undefined;
  readonly res: ServerResponse;
  readonly auth: RequestAuth;
  readonly signal: AbortSignal;
  readonly calls: CallRecord[];
  readonly requestId?: string;
  /** The request's SERVER span, when tracing is on. */
  readonly span?: Span;
}

/** Yoga's envelop pipeline for one direct request, with the context it builds from it. */
export function envelopedFor({ yoga, auth, signal, calls, requestId, span }: DirectRequest, params: Params) {
  return yoga.getEnveloped({ auth, signal, calls, params, fastPath: true, requestId, span });
}

/** Returns false, having written nothing, when the request is not one the fast path takes. */
export async function tryFastPath(request: DirectRequest): Promise<boolean> {
  const { body, accept, res } = request;
  const contentType = responseType(accept);
  if (!contentType || !isPlainParams(body)) return false;
  const { parse, validate, contextFactory, execute, schema } = envelopedFor(request, body);
  // The context first: building it runs the JWT plugin, so a caller without a valid token learns
  // nothing about the schema from parse and validation errors (Yoga's own path authenticates in
  // onRequestParse, before parsing, too). A refusal propagates to the edge, which answers 401.
  const contextValue = (await contextFactory()) as GraphQLContext;
  // As Yoga: documents it cannot run are request errors — 400 under the GraphQL-over-HTTP media
  // type, 200 with plain JSON. The limit plugins throw rather than report, hence the try.
  const requestError = (error: unknown, code: string) => {
    send(res, contentType === GRAPHQL_RESPONSE ? 400 : 200, contentType, { errors: [publicError(asGraphQLError(error, code))] });
    return true;
  };
  let document: DocumentNode;
  try {
    document = parse(body.query);
  } catch (error) {
    return requestError(error, 'GRAPHQL_PARSE_FAILED');
  }
  const operation = getOperationAST(document, body.operationName);
  if (!operation || operation.operation === 'subscription') return false;
  try {
    const errors = validate(schema, document);
    if (errors.length > 0) {
      send(res, contentType === GRAPHQL_RESPONSE ? 400 : 200, contentType, {
        errors: errors.map((e: GraphQLError) => publicError(asGraphQLError(e, 'GRAPHQL_VALIDATION_FAILED'))),
      });
      return true;
    }
  } catch (error) {
    return requestError(error, 'GRAPHQL_VALIDATION_FAILED');
  }
  const variableValues = body.variables ?? undefined;
  let result: ExecutionResult | undefined;
  let thrown: unknown;
  try {
    result = (await execute({ schema, document, contextValue, variableValues, operationName: body.operationName ?? undefined })) as ExecutionResult;
    result = withCalls(contextValue, result) ?? result;
  } catch (error) {
    thrown = error;
  }
  if (thrown !== undefined || result!.data === undefined) {
    // Compiled execution refuses bad variables tersely (or throws): answer with the interpreter's
    // own coercion errors, which name the variable and the path. Nothing ran, so nothing repeats.
    const refused = getVariableValues(schema, operation.variableDefinitions ?? [], variableValues ?? {}).errors;
    if (refused) result = { errors: refused.map(toGraphQLError) };
    else if (thrown !== undefined) throw thrown;
  }
  // A result without data (variables refused) is a request error, as Yoga answers it.
  const status = result!.data === undefined ? 400 : 200;
  send(res, status, contentType, result!.errors ? { ...result, errors: result!.errors.map(publicError) } : result);
  return true;
}

function send(res: ServerResponse, status: number, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function isPlainParams(body: unknown): body is Params {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const params = body as Record<string, unknown>;
  for (const key of Object.keys(params)) if (!PARAMS.has(key)) return false;
  if (typeof params.query !== 'string') return false;
  const { variables, operationName, extensions } = params;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return false;
  if (operationName != null && typeof operationName !== 'string') return false;
  return extensions == null || (typeof extensions === 'object' && !Array.isArray(extensions));
}

/** The media type to answer in, or undefined when Yoga should negotiate (SSE, multipart, odd Accept). */
function responseType(accept: string | undefined): string | undefined {
  if (!accept || accept === '*/*' || accept === 'application/json') return JSON_RESPONSE;
  if (accept.includes('event-stream') || accept.includes('multipart') || accept.includes('charset=') && !accept.includes('utf-8')) return undefined;
  if (accept.includes('application/graphql-response+json')) return GRAPHQL_RESPONSE;
  if (accept.includes('application/json') || accept.includes('*/*')) return JSON_RESPONSE;
  return undefined;
}

function asGraphQLError(error: unknown, code: string): GraphQLError {
  const e = error instanceof GraphQLError ? error : new GraphQLError(String((error as Error)?.message ?? error));
  if (e.extensions?.code) return e;
  return new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, extensions: { ...e.extensions, code } });
}

/** Errors as clients see them: Yoga's internal `http` hint is not part of the response. */
export function publicError(error: GraphQLError | { toJSON?: () => object }): object {
  const json = (typeof error.toJSON === 'function' ? error.toJSON() : error) as { extensions?: Record<string, unknown> };
  if (json.extensions && 'http' in json.extensions) {
    const { http: _http, ...extensions } = json.extensions;
    return { ...json, extensions };
  }
  return json;
}
