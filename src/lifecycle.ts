/**
 * Graceful shutdown. Draining: the port stops taking connections (so health checks fail and load
 * balancers stop sending), in-flight requests and streams run to their end. At the deadline (or a second
 * signal) what is still running is cut with a clear "shutting down" error, not a bare reset.
 */
import type { ServerResponse } from 'node:http';
import { setMaxListeners } from 'node:events';
import { ServiceUnavailableError } from './errors.js';

export class Lifecycle {
  private readonly cutController = new AbortController();
  private inflight = 0;
  private idle: (() => void) | undefined;

  constructor() {
    // Every in-flight request listens on this one signal.
    setMaxListeners(0, this.cutController.signal);
  }

  /** Fires when in-flight work must stop now; its reason is the error clients get. */
  get cut(): AbortSignal {
    return this.cutController.signal;
  }

  /**
   * A signal for one request or connection: aborted when its client goes away (reason undefined)
   * or when the gateway cuts in-flight work (reason: a ServiceUnavailableError).
   */
  requestSignal(res: ServerResponse): AbortSignal {
    const controller = new AbortController();
    const onCut = () => controller.abort(this.cut.reason);
    this.cut.addEventListener('abort', onCut, { once: true });
    res.once('close', () => {
      this.cut.removeEventListener('abort', onCut);
      if (!res.writableFinished) controller.abort();
    });
    return controller.signal;
  }

  /** Same for a long-lived connection (WebSocket); `release` when it closes. */
  connectionSignal(): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    const onCut = () => controller.abort(this.cut.reason);
    this.cut.addEventListener('abort', onCut, { once: true });
    return {
      signal: controller.signal,
      release: () => {
        this.cut.removeEventListener('abort', onCut);
        controller.abort();
      },
    };
  }

  /** Counts a request as in flight until its response closes. */
  track(res: ServerResponse): void {
    this.inflight++;
    res.once('close', () => {
      this.inflight--;
      if (this.inflight === 0) this.idle?.();
    });
  }

  /** Resolves when nothing is in flight, or when `signal` fires. */
  drained(signal: AbortSignal): Promise<void> {
    if (this.inflight === 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.idle = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  cutInflight(): void {
    this.cutController.abort(new ServiceUnavailableError('gateway is shutting down; retry the request'));
  }

  get inflightCount(): number {
    return this.inflight;
  }
}
