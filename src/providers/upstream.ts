/**
 * The one upstream HTTP client: a keep-alive undici Pool per provider, the provider's credentials,
 * the configured timeouts, and transport failures translated into gateway errors.
 */
import { Pool, type Dispatcher } from 'undici';
import type { ProviderConfig } from '../config.js';
import { ClientGoneError, GatewayError, UpstreamError, UpstreamTimeoutError, UpstreamUnavailableError } from '../errors.js';
import { traceHeaders } from '../telemetry/tracing.js';

export interface UpstreamTimeouts {
  /** Bounds a whole JSON exchange, and the wait for a stream's response headers. */
  readonly readTimeoutMs: number;
  /** Longest silence between two pieces of a stream's body once it has started. */
  readonly streamIdleTimeoutMs: number;
  /** Longest a stream may run in all. */
  readonly maxStreamDurationMs: number;
}

export interface UpstreamRequest {
  readonly method: Dispatcher.HttpMethod;
  /** Path below the provider's base URL, query included. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer | null;
  readonly signal?: AbortSignal;
  /** `path` is from the base URL's origin, not below its path. */
  readonly fromOrigin?: boolean;
  /** Anthropic-style credentials: the key as `x-api-key` too (and a default `anthropic-version`). */
  readonly anthropicAuth?: boolean;
}

export type UpstreamResponse = Dispatcher.ResponseData;

/** A chat completion or model list is kilobytes; anything this big is a broken or hostile upstream. */
export const MAX_JSON_RESPONSE_BYTES = 32 * 1024 * 1024;

const beforeResponse = new WeakSet<Error>();

/**
 * Whether a failure happened before the provider answered (no connection, no headers in time, an
 * error status) — so another provider can be tried without anything having been served.
 */
export function failedBeforeResponse(error: unknown): boolean {
  return error instanceof Error && beforeResponse.has(error);
}

export class Upstream {
  readonly provider: string;
  /** The provider's base URL's origin (its `server.address` in traces). */
  readonly origin: URL;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly credentials: Record<string, string>;
  private readonly anthropicCredentials: Record<string, string>;

  constructor(config: ProviderConfig, readonly timeouts: UpstreamTimeouts) {
    this.provider = config.spec.id;
    const base = new URL(config.url);
    this.origin = new URL(base.origin);
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.pool = new Pool(base.origin, {
      keepAliveTimeout: 30_000,
      connect: { timeout: timeouts.readTimeoutMs || undefined },
    });
    this.credentials = { ...config.spec.extraHeaders };
    if (config.apiKey) {
      if (config.spec.auth === 'x-api-key') this.credentials['x-api-key'] = config.apiKey;
      else this.credentials.authorization = `Bearer ${config.apiKey}`;
    }
    // Providers' Anthropic-compatible endpoints take x-api-key, Bearer, or both: send both.
    this.anthropicCredentials = { 'anthropic-version': '2023-06-01', ...this.credentials };
    if (config.apiKey) this.anthropicCredentials['x-api-key'] = config.apiKey;
  }

  /**
   * A JSON exchange: the whole of it, body included, must finish within the read timeout.
   * Returns the parsed body and its text (so a relay can send the provider's bytes as they came).
   *
   * This is the hot path of every non-streamed call, so it goes through undici's `dispatch` rather
   * than `request`: the answer's bytes are collected as they arrive, with no body stream, async
   * iterator or async resource per request (bench/PROFILE.md has the before and after).
   */
  async json<T>(req: UpstreamRequest): Promise<{ body: T; text: string }> {
    const limit = this.timeouts.readTimeoutMs;
    let answer: JsonAnswer;
    let exchange: JsonExchange | undefined;
    try {
      answer = await new Promise<JsonAnswer>((resolve, reject) => {
        exchange = new JsonExchange(this.provider, limit, req.signal, resolve, reject);
        this.pool.dispatch(this.options(req, limit, limit), exchange);
      });
    } catch (error) {
      const translated = this.translate(error, req.signal);
      // No answer at all: the provider did not serve this request (one that began answering may have).
      if (!exchange?.answered) beforeResponse.add(translated);
      throw translated;
    }
    if (answer.status >= 400) {
      const error = errorAnswer(this.provider, answer.status, answer.text, answer.retryAfter);
      beforeResponse.add(error);
      throw error;
    }
    try {
      return { body: JSON.parse(answer.text) as T, text: answer.text };
    } catch {
      throw new UpstreamUnavailableError(this.provider, 'upstream answered with malformed JSON');
    }
  }

  /**
   * Opens a response whose body the caller consumes (a stream, a proxied body). Only the wait for
   * the headers is bounded by the read timeout; then silence is bounded by the stream idle timeout.
   */
  async open(req: UpstreamRequest, { errorsAsExceptions = true } = {}): Promise<UpstreamResponse> {
    try {
      const res = await this.send(req, this.timeouts.readTimeoutMs, this.timeouts.streamIdleTimeoutMs);
      if (errorsAsExceptions) await throwIfError(this.provider, res);
      return res;
    } catch (error) {
      const translated = this.translate(error, req.signal);
      beforeResponse.add(translated);
      throw translated;
    }
  }

  /** Maps a failure while reading an opened body (stream cut, idle timeout) to a gateway error. */
  translate(error: unknown, callerSignal?: AbortSignal): Error {
    if (error instanceof GatewayError) return error;
    if (callerSignal?.aborted) {
      // Aborted on purpose by the gateway (shutting down) carries its reason; otherwise the client left.
      return callerSignal.reason instanceof GatewayError ? callerSignal.reason : new ClientGoneError();
    }
    const code = (error as { code?: string }).code ?? '';
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new UpstreamTimeoutError(this.provider, this.timeouts.readTimeoutMs);
    }
    if (code === 'UND_ERR_BODY_TIMEOUT') {
      return new UpstreamTimeoutError(this.provider, this.timeouts.streamIdleTimeoutMs);
    }
    return new UpstreamUnavailableError(this.provider, `upstream unreachable (${describeTransportError(error)})`);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private options(req: UpstreamRequest, headersTimeout: number, bodyTimeout: number): Dispatcher.DispatchOptions {
    return {
      method: req.method,
      path: req.fromOrigin ? req.path : this.basePath + req.path,
      // With tracing on, a traced call's request carries its span's `traceparent`.
      headers: traceHeaders({ ...req.headers, ...(req.anthropicAuth ? this.anthropicCredentials : this.credentials) }),
      body: req.body ?? null,
      headersTimeout,
      bodyTimeout,
    };
  }

  private send(req: UpstreamRequest, headersTimeout: number, bodyTimeout: number): Promise<UpstreamResponse> {
    return this.pool.request({ ...this.options(req, headersTimeout, bodyTimeout), signal: req.signal } as Dispatcher.RequestOptions);
  }
}

interface JsonAnswer {
  readonly status: number;
  readonly text: string;
  readonly retryAfter: string | string[] | undefined;
}

/**
 * One JSON exchange as an undici dispatch handler: the answer's bytes are kept as they come (up to
 * MAX_JSON_RESPONSE_BYTES); the caller's signal, the read timeout once the headers are in (undici's
 * headersTimeout bounds the wait before them) and an oversized answer abort it.
 */
class JsonExchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private retryAfter: string | string[] | undefined;
  private readonly parts: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private readonly started = performance.now();
  private readonly onAbort: (() => void) | undefined;

  /** The provider's answer has begun (status and headers in). */
  get answered(): boolean {
    return this.status !== 0;
  }

  constructor(
    private readonly provider: string,
    private readonly limit: number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (answer: JsonAnswer) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    if (signal) {
      // An aborted signal always has a reason (an AbortError unless one was given).
      this.onAbort = () => this.abort(signal.reason as Error);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.failure) controller.abort(this.failure);
    else if (this.signal?.aborted) controller.abort(this.signal.reason as Error);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return; // 1xx: informational, the answer follows
    this.status = status;
    this.retryAfter = headers['retry-after'];
    if (this.limit > 0) {
      this.timer = setTimeout(
        () => this.abort(new UpstreamTimeoutError(this.provider, this.limit)),
        Math.max(0, this.limit - (performance.now() - this.started)),
      );
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > MAX_JSON_RESPONSE_BYTES) {
      this.abort(new UpstreamUnavailableError(this.provider, `upstream answer is larger than ${MAX_JSON_RESPONSE_BYTES} bytes`));
      return;
    }
    this.parts.push(chunk);
  }

  onResponseEnd(): void {
    this.done();
    const { parts, size } = this;
    const text = parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts, size).toString('utf8');
    this.resolve({ status: this.status, text, retryAfter: this.retryAfter });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.done();
    this.reject(this.failure ?? error);
  }

  private abort(reason: Error): void {
    if (this.failure) return;
    this.failure = reason;
    this.controller?.abort(reason);
  }

  private done(): void {
    clearTimeout(this.timer);
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
  }
}

/** Turns an upstream 4xx/5xx into an UpstreamError carrying the provider's own message. */
async function throwIfError(provider: string, res: UpstreamResponse): Promise<void> {
  if (res.statusCode < 400) return;
  let text = '';
  try {
    text = await res.body.text();
  } catch {
    // The status alone still tells the story.
  }
  throw errorAnswer(provider, res.statusCode, text, res.headers['retry-after']);
}

/** An upstream 4xx/5xx as an UpstreamError: the provider's own message, and its `retry-after` passed on. */
function errorAnswer(provider: string, status: number, text: string, retryAfter: string | string[] | undefined): UpstreamError {
  const headers: Record<string, string> = {};
  if (typeof retryAfter === 'string') headers['retry-after'] = retryAfter;
  return new UpstreamError(provider, status, upstreamMessage(text, status), headers);
}

/** The human part of a provider's error body, whatever its dialect. */
export function upstreamMessage(text: string, status: number): string {
  let message: unknown;
  try {
    const body = JSON.parse(text) as Record<string, any>;
    message =
      body?.error?.message ?? body?.error ?? body?.message ?? body?.errors?.[0]?.message ?? body?.detail ?? undefined;
  } catch {
    message = text.trim();
  }
  if (typeof message !== 'string' || message === '') message = `upstream answered ${status}`;
  const s = message as string;
  return s.length > 500 ? `${s.slice(0, 500)}…` : s;
}

function describeTransportError(error: unknown): string {
  const e = error as { code?: string; cause?: { code?: string }; message?: string };
  const code = e.code ?? e.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection closed unexpectedly';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    default:
      return code ?? e.message ?? 'unknown error';
  }
}
