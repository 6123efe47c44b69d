import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests spawn servers and Redis; two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
  },
});
