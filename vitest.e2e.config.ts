import { defineConfig } from 'vitest/config';
import { resolve } from './vitest.shared.js';

// End-to-end: a real Keycloak server and a real browser. Slow start-up, so one file at a time.
export default defineConfig({
  resolve,
  test: {
    globalSetup: ['./test/setup/system-deps-e2e.ts'],
    include: ['test/e2e/**/*.e2e.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
