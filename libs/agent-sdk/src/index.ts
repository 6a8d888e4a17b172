export * from './agent.js';
export * from './answer-cache.js';
export * from './concurrency-limiter.js';
export * from './run-agents.js';
