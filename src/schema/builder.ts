/** The one Pothos builder: the only file that knows the schema's context type and scalars. */
import SchemaBuilder from '@pothos/core';
import type { CallRecord, Gateway } from '../gateway.js';
import type { Identity } from '../auth/identity.js';
import type { Span } from '../telemetry/tracing.js';

export interface GraphQLContext {
  readonly gateway: Gateway;
  /** The verified caller (built from `jwt.payload`), or null when auth is off. */
  readonly identity: Identity | null;
  /** Set by @graphql-yoga/plugin-jwt when auth is on: the verified token's payload (and the token). */
  readonly jwt?: { readonly payload: Readonly<Record<string, unknown>>; readonly token: { readonly value: string; readonly prefix?: string } };
  /** Fires when the client goes away (HTTP request aborted, WebSocket closed). */
  readonly signal: AbortSignal;
  /** This operation's chat calls, reported in `extensions.gateway`. */
  readonly calls: CallRecord[];
  /** The HTTP request's calls (for its log line), when the operation came over HTTP. */
  readonly requestCalls?: CallRecord[];
  /** The HTTP request's id (none over WebSocket). */
  readonly requestId?: string;
  /** Run by the GraphQL fast path, which answers refused variables and adds call extensions itself. */
  readonly fastPath?: boolean;
  /** The request's (or WebSocket operation's) SERVER span, parent of its provider calls' spans; set when tracing is on. */
  readonly span?: Span;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: { JSON: { Input: unknown; Output: unknown }; DateTime: { Input: Date; Output: Date | string } };
  DefaultFieldNullability: false;
}>({
  // Fields are non-null unless they say otherwise, as in the contract.
  defaultFieldNullability: false,
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
