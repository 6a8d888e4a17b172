/**
 * What a Node program needs to be an agent of the platform:
 *
 *   const agent = new Agent({ name: 'llm_agent', agentType: 'llm', natsUrl: 'nats://127.0.0.1:4222' });
 *   agent.handle('generate_content', async (payload, ctx) => ({ title: '...', content: '...' }));
 *   await runAgents([agent]); // starts it, stops it cleanly on SIGINT/SIGTERM
 */
export * from './agent.js';
export * from './agent-logger.js';
export * from './answer-cache.js';
export * from './concurrency-limiter.js';
export * from './run-agents.js';
export * from './task-runner.js';
