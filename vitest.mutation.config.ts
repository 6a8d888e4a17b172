import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The tests mutation testing runs (scripts/test-mutation.sh): the integration tier and the
 * orchestrator's unit specs, the only ones that run the code it mutates; not the end-to-end tier
 * (a built app per mutant).
 */
const ONLY: Record<string, string[] | undefined> = {
  unit: ['apps/orchestrator/src/**/*.spec.ts'],
  integration: undefined,
};

const projects = (base.test?.projects ?? []).flatMap((project) => {
  if (typeof project !== 'object' || !('test' in project)) return [];
  const { test } = project;
  const name = test?.name;
  if (typeof name !== 'string' || !(name in ONLY)) return [];
  const include = ONLY[name];
  return [{ ...project, test: { ...test, ...(include ? { include } : {}) } }];
});

export default defineConfig({ test: { projects } });
