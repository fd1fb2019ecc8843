/**
 * Compiled execution for subscription events. A subscription runs its selection set once per event —
 * for a streamed chat, once per chunk — and the interpreter's per-field work was the largest part of
 * a GraphQL stream's cost (measured: ~19% of the CPU of a 1,000-stream burst). Here the source
 * stream is created as the interpreter does (graphql-js's `createSourceEventStream`: variables
 * coerced once, the field's `subscribe` resolver, its errors as results), and each event is executed
 * by graphql-jit's compiled query for the document, cached per document.
 *
 * Not graphql-jit's own `subscribe` (nor @envelop/graphql-jit's, which calls it): it hands every
 * event the already-coerced variables, which it then coerces again — an enum variable's internal
 * value (`user`) is refused as the enum's name (`USER`) on every event. Each event here gets the
 * request's raw variables, like a query would.
 *
 * Only for the gateway's direct transports (SSE, WebSocket: `contextValue.compiledEvents`); Yoga's
 * own path stays on the interpreter. Invalid variables are answered by `createSourceEventStream`
 * before any event, as by the interpreter. The source iterator's errors
 * (a stream cut mid-way) propagate from `next()` exactly as before, and `return()` (the client went
 * away) reaches the source at once.
 */
import { createSourceEventStream, getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/builder.js';

type Compiled = CompiledQuery | undefined;

export function useCompiledSubscriptionEvents(): Plugin {
  // Per parsed document (the parse cache hands out the same object) and operation name.
  const cache = new WeakMap<DocumentNode, Map<string, Compiled>>();
  const compiledFor = (args: ExecutionArgs): Compiled => {
    const key = args.operationName ?? '';
    let byName = cache.get(args.document);
    if (!byName) cache.set(args.document, (byName = new Map()));
    if (!byName.has(key)) {
      const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      byName.set(key, isCompiledQuery(result) ? result : undefined);
    }
    return byName.get(key);
  };
  return {
    onSubscribe({ args, setSubscribeFn }) {
      if (!(args.contextValue as unknown as GraphQLContext | undefined)?.compiledEvents) return;
      if (getOperationAST(args.document, args.operationName)?.operation !== 'subscription') return;
      const compiled = compiledFor(args);
      if (!compiled) return;
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        const source = await createSourceEventStream(subscribeArgs);
        if (!isAsyncIterable(source)) return source as ExecutionResult;
        const { contextValue, variableValues } = subscribeArgs;
        return mapEvents(source[Symbol.asyncIterator](), (event) => compiled.query(event, contextValue, variableValues ?? {}));
      });
    },
  };
}

/** `source`'s events through `map`, with `return` and `throw` passed straight to the source. */
function mapEvents(
  source: AsyncIterator<unknown>,
  map: (event: unknown) => ExecutionResult | Promise<ExecutionResult>,
): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      const step = await source.next();
      if (step.done) return { done: true, value: undefined };
      return { done: false, value: await map(step.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      if (source.throw) await source.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
