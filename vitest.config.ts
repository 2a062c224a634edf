import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts', 'e2e/**/*.e2e.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Model-dependent tests load a real GGUF through node-llama-cpp; 2 cores.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
