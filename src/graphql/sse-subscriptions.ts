/**
 * Subscriptions over GraphQL-over-SSE (distinct connections: `POST` with `Accept: text/event-stream`)
 * written straight to the Node response: Yoga's envelop pipeline for the context, parse and validate
 * (caches, limits, the JWT plugin), the direct subscribe of compiled-subscriptions.ts (compiled
 * events, Yoga's error mask, the calls extension), the same frames as Yoga (`:` first,
 * `event: next` per result, `event: complete`, a `:` ping every 12 s), without a Fetch Response and
 * a ReadableStream per stream — which cost every stream time to first chunk and memory. Anything
 * unusual (parse or validation errors, refused variables, queries over SSE) is left to Yoga.
 */
import { getOperationAST, Kind, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import { isAsyncIterable } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { drained, frameWriter } from '../sse.js';
import { toGraphQLError } from './errors.js';
import { envelopedFor, isPlainParams, publicError, type DirectRequest } from './fast-path.js';
import { subscribeDirect } from './compiled-subscriptions.js';
import { errorMask } from './yoga.js';

const HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' };
// As Yoga: every 12 s, every 300 ms under NODE_ENV=test (so tests can see pings).
const PING_MS = process.env.NODE_ENV === 'test' ? 300 : 12_000;

/** Returns false, having written nothing, when the request is not one this path takes. */
export async function trySseSubscription(request: DirectRequest, logger: Logger): Promise<boolean> {
  const { body, accept, res, signal } = request;
  if (!accept?.includes('text/event-stream') || accept.includes('multipart') || !isPlainParams(body)) return false;
  const { parse, validate, contextFactory, subscribe, schema } = envelopedFor(request, body);
  // The context first: it runs the JWT plugin (see fast-path.ts); a refusal reaches the edge as a 401.
  const contextValue = await contextFactory();
  let document: DocumentNode;
  try {
    document = parse(body.query);
    const operation = getOperationAST(document, body.operationName);
    if (!operation || operation.operation !== 'subscription') return false;
    if (validate(schema, document).length > 0) return false;
  } catch {
    return false; // Yoga words document errors (and the limits plugins' refusals) as usual
  }

  const args = { schema, document, contextValue, variableValues: body.variables ?? undefined, operationName: body.operationName ?? undefined };
  const result = await subscribeDirect(args, subscribe, errorMask(logger));

  // Refused variables: answered before any resolver ran and before a byte was written, so Yoga can
  // still word them as it does (coercing them again only for such requests, not for every stream).
  if (!isAsyncIterable(result) && result.errors?.some(isVariableError)) return false;
  if (res.destroyed) {
    // The client left while the subscription was being set up: let it wind down unread.
    if (isAsyncIterable(result)) void result[Symbol.asyncIterator]().return?.()?.catch(() => {});
    return true;
  }
  res.writeHead(200, HEADERS);
  // A comment first: some browsers hold a fetch until the first bytes of the body arrive.
  res.write(':\n\n');
  if (!isAsyncIterable(result)) {
    res.end(next(result) + COMPLETE);
    return true;
  }
  const iterator = result[Symbol.asyncIterator]();
  const ping = setInterval(() => res.writableLength === 0 && res.write(':\n\n'), PING_MS);
  // Client gone: stop the subscription at once (it aborts the provider request).
  const stop = () => void iterator.return?.()?.catch(() => {});
  res.once('close', stop);
  try {
    const write = frameWriter(res);
    for (;;) {
      const step = await iterator.next();
      if (step.done) break;
      if (res.destroyed) return true;
      if (!write(next(step.value))) await drained(res, signal);
    }
  } catch (error) {
    // The pipeline turns resolver and stream failures into results; this is what slipped past it.
    const masked = toGraphQLError(error);
    if (masked.extensions.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error }, 'graphql subscription failed');
    if (!res.destroyed) res.write(next({ errors: [masked] }));
  } finally {
    clearInterval(ping);
    res.off('close', stop);
  }
  if (!res.destroyed) res.end(COMPLETE);
  return true;
}

const COMPLETE = 'event: complete\ndata:\n\n';

/** A variable's coercion error: graphql-js points it at the variable's definition. */
function isVariableError(error: GraphQLError): boolean {
  return error.nodes?.some((node) => node.kind === Kind.VARIABLE_DEFINITION) ?? false;
}

function next(result: ExecutionResult): string {
  const value = result.errors ? { ...result, errors: result.errors.map(publicError) } : result;
  return `event: next\ndata: ${JSON.stringify(value)}\n\n`;
}
