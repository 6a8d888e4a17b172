import { describe, expect, it } from 'vitest';
import { parseStaticAgents, validateConfig, validateSetting } from './app-config.js';

const base = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' };

describe('validateConfig', () => {
  it('applies defaults and converts numbers', () => {
    expect(validateConfig({ ...base, PORT: '8080' })).toMatchObject({ PORT: 8080, DEFAULT_MAX_ATTEMPTS: 3, NATS_URL: 'nats://127.0.0.1:4222' });
  });

  it('names every bad variable', () => {
    let message = '';
    try {
      validateConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', STATIC_AGENTS: '[{"name":"a.>"}]' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration:/);
    expect(message).toMatch(/DATABASE_URL: /);
    expect(message).toMatch(/PORT: /);
    expect(message).toContain('STATIC_AGENTS: [0].name must be an agent name');
  });
});

describe('MAX_WORKFLOW_DEPTH', () => {
  it('is 5 unless set, and at least 1', () => {
    expect(validateConfig(base).MAX_WORKFLOW_DEPTH).toBe(5);
    expect(validateConfig({ ...base, MAX_WORKFLOW_DEPTH: '3' }).MAX_WORKFLOW_DEPTH).toBe(3);
    expect(() => validateConfig({ ...base, MAX_WORKFLOW_DEPTH: '0' })).toThrow(/MAX_WORKFLOW_DEPTH: /);
  });

  it('is validated alone for a tool that runs without the service, whatever else is set', () => {
    expect(validateSetting({ MAX_WORKFLOW_DEPTH: '2', PORT: 'eighty' }, 'MAX_WORKFLOW_DEPTH')).toBe(2);
    expect(validateSetting({}, 'MAX_WORKFLOW_DEPTH')).toBe(5);
    expect(() => validateSetting({ MAX_WORKFLOW_DEPTH: 'deep' }, 'MAX_WORKFLOW_DEPTH')).toThrow(/^Invalid configuration:\n {2}MAX_WORKFLOW_DEPTH: /);
  });
});

describe('parseStaticAgents', () => {
  it('reads agents with their capabilities and optional capacity', () => {
    expect(parseStaticAgents('[{"name":"py_agent","capabilities":["summarize"],"max_concurrency":4},{"name":"other","capabilities":[]}]')).toEqual([
      { name: 'py_agent', capabilities: ['summarize'], max_concurrency: 4 },
      { name: 'other', capabilities: [], max_concurrency: null },
    ]);
  });

  it.each([
    ['not json', 'must be JSON'],
    ['{}', 'must be a JSON list of { name, capabilities, max_concurrency? }'],
    ['[{"name":"ok","capabilities":["Bad Type"]}]', '[0].capabilities must be a list of task types'],
    ['[{"name":"ok","capabilities":[],"max_concurrency":0}]', '[0].max_concurrency must be a positive integer'],
  ])('refuses %s', (json, message) => expect(parseStaticAgents(json)).toBe(message));
});
