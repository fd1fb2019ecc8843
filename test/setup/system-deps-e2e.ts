/** `npm run test:e2e` and the soak suite: everything — Chromium, Keycloak's Java/Maven/unzip, redis-server. */
import { ensureSystemDeps } from './system-deps.js';

export default function setup(): void {
  ensureSystemDeps(['chromium', 'keycloak', 'redis']);
}
