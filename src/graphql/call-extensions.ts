/**
 * Reports which provider and model served each chat call (after any fallback) in the response's
 * `extensions.gateway.calls`, and hands the operation's calls to the request they belong to (for
 * its log line and the overhead metric).
 */
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { CallRecord } from '../gateway.js';
import type { GraphQLContext } from '../schema/builder.js';

export function useCallExtensions(): Plugin<GraphQLContext> {
  return {
    // The fast path adds them itself: a done-hook on every execution costs it ~10% of its time.
    onExecute: ({ args }) =>
      args.contextValue.fastPath
        ? undefined
        : {
            onExecuteDone: ({ args, result, setResult }) => {
              if (isAsyncIterable(result)) return;
              const extended = withCalls(args.contextValue, result);
              if (extended) setResult(extended);
            },
          },
    onSubscribe: () => ({
      onSubscribeResult: ({ args, result, setResult }) => {
        if (!isAsyncIterable(result)) {
          const extended = withCalls(args.contextValue, result);
          if (extended) setResult(extended);
          return;
        }
        let first = true;
        return {
          // The first event says who serves the stream; the rest stay as small as they are.
          onNext: ({ result: event, setResult: setEvent }) => {
            if (!first) return;
            first = false;
            const extended = withCalls(args.contextValue, event);
            if (extended) setEvent(extended);
          },
        };
      },
    }),
  };
}

export function withCalls(context: GraphQLContext, result: ExecutionResult): ExecutionResult | undefined {
  const { calls } = context;
  if (calls.length === 0) return undefined;
  context.requestCalls?.push(...calls);
  return { ...result, extensions: { ...result.extensions, gateway: { calls: calls.map(publicCall) } } };
}

function publicCall(record: CallRecord) {
  const call: Record<string, unknown> = { provider: record.provider, model: record.model, attempts: record.attempts };
  if (record.alias) call.alias = record.alias;
  // The caller's budgets, as REST's x-ratelimit-* headers give them.
  const { requests, tokens } = record.budget ?? {};
  if (requests || tokens) call.rateLimit = { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}) };
  return call;
}
