// Mutation testing of the orchestrator's core (npm run test:mutation, scripts/test-mutation.sh): each
// mutant of the engine, planning, delegation and persistence code is run against the unit and
// integration tests that cover it. bench/MUTATION.md has the last scores and the mutants that survive.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  mutate: [
    'apps/orchestrator/src/{engine,planning,delegation,persistence}/**/*.ts',
    '!**/*.spec.ts',
    // Wiring, schema and entry points: nothing for a test to tell apart.
    '!**/*.module.ts',
    '!apps/orchestrator/src/persistence/migrations/**',
    '!apps/orchestrator/src/persistence/*.entity.ts',
    '!apps/orchestrator/src/persistence/data-source.ts',
    '!apps/orchestrator/src/planning/validate-workflows.ts',
  ],
  coverageAnalysis: 'perTest',
  // A mutant run when a module loads would need every test run for it; they are reported as ignored.
  ignoreStatic: true,
  // One test process: the suite's integration tier is CPU-heavy (each worker has a database of its own,
  // so --concurrency may be raised where cores are to spare).
  concurrency: 1,
  timeoutMS: 10_000,
  incremental: true,
  incrementalFile: 'bench/mutation/stryker-incremental.json',
  // The dashboard's tsconfig stays: the root one refers to it.
  ignorePatterns: ['.data', '.stryker-tmp', 'apps/dashboard/*', '!apps/dashboard/tsconfig*.json', 'sdks', '**/dist', 'bench/*.md'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'bench/mutation/mutation.json' },
  clearTextReporter: { reportMutants: false, reportTests: false, reportScoreTable: true },
  // Below 70% `npm run test:mutation` exits non-zero (its report written first).
  thresholds: { high: 80, low: 70, break: 70 },
};
