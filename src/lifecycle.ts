/**
 * Graceful shutdown. Draining: the port stops taking connections (so health checks fail and load
 * balancers stop sending), in-flight requests and streams run to their end. At the deadline (or a
 * second signal) what is still running is cut with a clear "shutting down" error, not a bare reset.
 */
import type { ServerResponse } from 'node:http';
import { ServiceUnavailableError } from './errors.js';

export class Lifecycle {
  /** One controller per request or connection in flight; a Set is far cheaper than listeners on a shared signal. */
  private readonly active = new Set<AbortController>();
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
    const controller = new AbortController();
    this.active.add(controller);
    this.inflight++;
    res.once('close', () => {
      this.active.delete(controller);
      if (!res.writableFinished) controller.abort();
      this.inflight--;
      if (this.inflight === 0) this.idle?.();
    });
    return controller.signal;
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
    for (const controller of this.active) controller.abort(reason);
    this.active.clear();
  }

  get inflightCount(): number {
    return this.inflight;
  }
}
