/**
 * Vitest global set-up: the Debian programs a suite starts for real (redis-server, PostgreSQL, Chromium,
 * Keycloak's Java and Maven) and the manifest tools (kustomize, kube-score) are installed before any test runs, so the README's commands work on a fresh machine.
 * Installs only what is missing, says so on the console, and stops the run with the reason when it
 * cannot (no root, no sudo): a missing program must fail the suite, never skip its tests.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/install-system-deps.sh', import.meta.url));

export function ensureSystemDeps(names: readonly string[]): void {
  const run = spawnSync('bash', [SCRIPT, ...names], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) {
    throw new Error(`could not install what the tests need (${names.join(', ')}): see the message above, or run 'bash scripts/install-system-deps.sh'`);
  }
}

/**
 * `npm test`: a real redis-server for the limits tests, PostgreSQL for the Postgres tests, kustomize and
 * kube-score (built with Go, cached in ~/.cache/graphql-inference-gateway/bin) for the manifest tests.
 */
export default function setup(): void {
  ensureSystemDeps(['redis', 'kustomize', 'postgres', 'kube-score']);
}
