/**
 * The probes, apart from the contract's `GET /health` (always 200 while the port answers):
 *   GET /health/live   is the process alive? 200 whenever the event loop gets to answer.
 *   GET /health/ready  should this replica get traffic? 503 with the reason while it should not:
 *                      draining after SIGTERM, or auth on and the issuer's signing keys not loaded yet.
 * Neither needs a token. Redis and the ledger's database are not part of readiness: the gateway
 * serves without them (budgets fail open or closed as configured, records wait in a buffer), and an
 * outage of either must not take every replica out of rotation at once.
 */
import type { ServerResponse } from 'node:http';
import type { TokenVerifier } from './auth/verifier.js';
import type { Lifecycle } from './lifecycle.js';
import { sendJson } from './rest/http.js';

export const LIVE_PATH = '/health/live';
export const READY_PATH = '/health/ready';

/** How long a readiness probe waits for a signing-key fetch it started (kubelet's default timeout is 1 s). */
const KEY_WAIT_MS = 500;
const NO_STORE = { 'cache-control': 'no-store' };

export type NotReadyReason = 'draining' | 'signing-keys';

export function createProbes(lifecycle: Lifecycle, verifier: TokenVerifier | undefined) {
  /** Why this replica should not get traffic now, or undefined when it should. */
  async function notReady(): Promise<{ reason: NotReadyReason; message: string } | undefined> {
    if (lifecycle.draining) return { reason: 'draining', message: 'Not ready: shutting down (draining in-flight requests)' };
    if (verifier && !(await verifier.keys.ensureLoaded(KEY_WAIT_MS))) {
      return { reason: 'signing-keys', message: "Not ready: the identity provider's signing keys are not loaded yet" };
    }
    return undefined;
  }

  return {
    live(res: ServerResponse): void {
      sendJson(res, 200, { message: 'OK' }, NO_STORE);
    },
    async ready(res: ServerResponse): Promise<void> {
      const why = await notReady();
      if (why) return sendJson(res, 503, { error: why.message, reason: why.reason }, NO_STORE);
      sendJson(res, 200, { message: 'OK' }, NO_STORE);
    },
  };
}
