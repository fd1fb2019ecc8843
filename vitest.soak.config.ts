import { defineConfig } from 'vitest/config';
import { resolve } from './vitest.shared.js';

// Soak and load: minutes, not seconds, and the machine to themselves — one file at a time.
export default defineConfig({
  resolve,
  test: {
    include: ['test/soak/**/*.soak.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
