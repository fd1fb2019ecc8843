/**
 * Graceful shutdown. Draining: the port stops taking connections (so health checks fail and load
 * balancers stop sending), in-flight requests and streams run to their end. At the deadline (or a
 * second signal) what is still running is cut with a clear "shutting down" error, not a bare reset.
 */
import type { ServerResponse } from 'node:http';
import { ServiceUnavailableError } from './errors.js';

type AbortListener = EventListenerOrEventListenerObject;

/**
 * An HTTP request's abort signal: what every door and the provider layer use of an AbortSignal —
 * `aborted`, `reason`, `throwIfAborted()`, `onabort` and `abort` listeners — without being one.
 * On Node 20 an AbortController per request and an abort listener per upstream call cost ~30 µs of
 * CPU a request under load (REST JSON at c=32, auth off: 230 → 197 µs a request; bench/AB.md), far
 * more than making them costs in a loop: most of it is the garbage an EventTarget leaves. Libraries
 * given this signal (undici) take any object with `addEventListener`. Listeners added after the
 * abort never run, as with an AbortSignal; the reason defaults to the same `AbortError`.
 */
export class RequestSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: ((event: Event) => void) | null = null;
  private listeners: AbortListener[] | undefined;

  addEventListener(type: string, listener: AbortListener | null): void {
    if (type !== 'abort' || !listener || this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(type: string, listener: AbortListener | null): void {
    if (type !== 'abort' || !listener || !this.listeners) return;
    const i = this.listeners.indexOf(listener);
    if (i !== -1) this.listeners.splice(i, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    const listeners = this.listeners ?? [];
    this.listeners = undefined;
    const event = new Event('abort');
    // As an EventTarget does: every listener runs, one that throws is reported without stopping the rest.
    for (const listener of this.onabort ? [this.onabort, ...listeners] : listeners) {
      try {
        if (typeof listener === 'function') listener.call(this, event);
        else listener.handleEvent(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Typed as what it stands in for. */
  get asAbortSignal(): AbortSignal {
    return this as unknown as AbortSignal;
  }
}

export class Lifecycle {
  /** One signal per request or connection in flight; a Set is far cheaper than listeners on a shared signal. */
  private readonly active = new Set<{ abort(reason?: unknown): void }>();
  private inflight = 0;
  private idle: (() => void) | undefined;
  private stopping = false;

  /** True from the start of a graceful shutdown: /health/ready answers 503 from then on. */
  get draining(): boolean {
    return this.stopping;
  }

  startDraining(): void {
    this.stopping = true;
  }

  /**
   * Counts a request as in flight until its response closes, and gives it a signal that fires when
   * its client goes away (reason undefined) or when the gateway cuts in-flight work (reason: a
   * ServiceUnavailableError, which then reaches the client as the error).
   */
  beginRequest(res: ServerResponse): AbortSignal {
    const signal = new RequestSignal();
    this.active.add(signal);
    this.inflight++;
    res.once('close', () => {
      this.active.delete(signal);
      if (!res.writableFinished) signal.abort();
      this.inflight--;
      if (this.inflight === 0) this.idle?.();
    });
    return signal.asAbortSignal;
  }

  /** The same signal for a long-lived connection (WebSocket); `release` when it closes. */
  connectionSignal(): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    this.active.add(controller);
    return {
      signal: controller.signal,
      release: () => {
        this.active.delete(controller);
        controller.abort();
      },
    };
  }

  /** Resolves when no request is in flight, or when `signal` fires. */
  drained(signal: AbortSignal): Promise<void> {
    if (this.inflight === 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.idle = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  cutInflight(): void {
    const reason = new ServiceUnavailableError('gateway is shutting down; retry the request');
    for (const signal of this.active) signal.abort(reason);
    this.active.clear();
  }

  get inflightCount(): number {
    return this.inflight;
  }
}
