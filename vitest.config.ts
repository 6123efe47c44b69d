import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ui and dist/controller.js first (test/support/global-build.ts), then starts one redis-server.
    globalSetup: ['test/support/global-build.ts', 'test/support/global-redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests spawn servers and Redis; two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
  },
});
