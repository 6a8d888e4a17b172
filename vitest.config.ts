import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          setupFiles: ['reflect-metadata'],
          include: ['apps/*/src/**/*.spec.ts', 'libs/*/src/**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          // Against the servers of scripts/infra.sh (PostgreSQL migrated, Redis), in-process: no NATS, no app process.
          name: 'integration',
          setupFiles: ['reflect-metadata'],
          include: ['test/integration/**/*.int-spec.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // One database: files run one after another in one process (the app's modules loaded once), each test on emptied tables.
          fileParallelism: false,
          isolate: false,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
