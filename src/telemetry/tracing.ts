/**
 * OpenTelemetry traces: one SERVER span per HTTP request and per WebSocket operation, one CLIENT
 * span per provider call (each fallback attempt its own, named and attributed per the GenAI
 * semantic conventions), W3C trace context continued from the caller and passed to the provider.
 *
 * This module is what the hot path sees. With tracing off it is the no-op below: the SDK is never
 * loaded (tracing-sdk.ts is imported only when an endpoint is configured) and each call site pays
 * one `enabled` check. The SDK-backed implementation lives in tracing-sdk.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { Identity } from '../auth/identity.js';
import type { TracingConfig } from '../config.js';
import type { CallRecord, Operation } from '../gateway.js';
import type { Logger } from '../logger.js';

export type { Span };

/** What a CLIENT span is started with: one attempt of one provider call. */
export interface CallStart {
  readonly operation: Operation;
  /** The gateway's provider id (`groq`) and the model as the provider names it. */
  readonly provider: string;
  readonly model: string;
  /** The provider's base URL (for `server.address` / `server.port`). */
  readonly origin: URL;
  /** 1 for the first target, 2 for the first fallback… */
  readonly attempt: number;
  readonly alias?: string;
  readonly stream: boolean;
  /** The request as the caller sent it (any API's shape), for `gen_ai.request.*` and, when opted in, its messages. */
  readonly asked?: unknown;
}

/** Watches a stream's items for the CLIENT span: time to first chunk, response model, finish reasons, text (opt-in). */
export interface StreamTrace {
  item(item: unknown): void;
  /** Ends the span: how the stream ended (`failure` undefined: whole) and its tokens from the record. */
  end(record: CallRecord, failure: unknown): void;
}

/** How a SERVER span ends. */
export interface RequestEnd {
  /** HTTP status of the answer (HTTP requests). */
  readonly status?: number;
  /** A WebSocket operation's outcome: `complete`, `error` or `closed`. */
  readonly outcome?: string;
  readonly identity: Identity | null;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Prompts and completions go into spans (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT). */
  readonly capturesContent: boolean;
  /** The SERVER span of an HTTP request (or, with `websocket`, of one WebSocket operation), continuing the caller's `traceparent`. */
  startRequest(req: IncomingMessage, path: string, route: string, requestId: string | undefined, transport?: 'websocket'): Span;
  endRequest(span: Span, end: RequestEnd): void;
  /** A CLIENT span for one attempt of a provider call, child of `parent`. */
  startCall(parent: Span | undefined, call: CallStart): Span;
  /** Runs `send` so that the provider request it makes carries `span`'s `traceparent`. */
  within<T>(span: Span, send: () => T): T;
  /** Ends a served (non-stream) call's span: response model, finish reasons, tokens. */
  callServed(span: Span, record: CallRecord, result: unknown): void;
  /** Ends an attempt's span that failed: `error.type` and an error status. */
  callFailed(span: Span, error: unknown): void;
  /** A CLIENT span for a raw `/proxy` request (HTTP semantics: no GenAI operation is known). */
  startProxyCall(parent: Span | undefined, provider: string, method: string, origin: URL, path: string): Span;
  /** Ends a `/proxy` request's span with the provider's status, or its failure. */
  proxyEnded(span: Span, status: number | undefined, error?: unknown): void;
  /** The span of an accepted stream stays open until the stream ends. */
  streamTrace(span: Span, started: number): StreamTrace;
  /** `trace_id` and `span_id` for the request's log line. */
  logFields(span: Span): { trace_id: string; span_id: string };
  /** Exports what is queued and stops (bounded by the export timeout). */
  shutdown(): Promise<void>;
}

/** Tracing off: nothing is created; call sites check `enabled` first, so none of these run. */
export const NO_TRACING: Tracing = {
  enabled: false,
  capturesContent: false,
  startRequest: unavailable,
  endRequest: unavailable,
  startCall: unavailable,
  within: (_span, send) => send(),
  callServed: unavailable,
  callFailed: unavailable,
  streamTrace: unavailable,
  startProxyCall: unavailable,
  proxyEnded: unavailable,
  logFields: unavailable,
  shutdown: async () => {},
};

function unavailable(): never {
  throw new Error('tracing is off');
}

/** Tracing as configured: the no-op when off (the SDK is not loaded), else the SDK's, exporting over OTLP/HTTP. */
export async function startTracing(config: TracingConfig | undefined, logger: Logger): Promise<Tracing> {
  if (!config) return NO_TRACING;
  const { createSdkTracing } = await import('./tracing-sdk.js');
  return createSdkTracing(config, logger);
}

/** Whatever injects the current provider call's trace context into its request headers. */
export interface OutgoingTrace {
  inject(headers: Record<string, string>): void;
}

/**
 * The traced provider call whose request is being built. Every door reaches the upstream client
 * (`Upstream.send`) synchronously from the call it makes — no await comes before the request — so
 * the context is handed over for the synchronous part of `send` only, with no AsyncLocalStorage:
 * on Node 20 one AsyncLocalStorage in use puts a hook on every promise of the process (bench/tracing.ts,
 * sampler always_off, REST JSON: 1.22× the CPU per request of tracing off with it, 1.06–1.13× without;
 * single runs on a loaded machine). No other request's code can run in between;
 * a door that awaited before its request would send no `traceparent` (the tests check each door's).
 */
let current: OutgoingTrace | undefined;

/** Runs `send` with `trace` as the context of the provider request it makes (see `traceHeaders`). */
export function runOutgoing<T>(trace: OutgoingTrace, send: () => T): T {
  const previous = current;
  current = trace;
  try {
    return send();
  } finally {
    current = previous;
  }
}

/** Adds `traceparent` (and `tracestate`) of the provider call being made, if it is traced, to `headers`. */
export function traceHeaders(headers: Record<string, string>): Record<string, string> {
  if (current) current.inject(headers);
  return headers;
}
