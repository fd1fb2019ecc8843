import { defineConfig } from 'vitest/config';
import { resolve } from './vitest.shared.js';

export default defineConfig({
  resolve,
  test: {
    globalSetup: ['./test/setup/system-deps.ts'],
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'test/soak/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
