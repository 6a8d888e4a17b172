/**
 * A typed client of the orchestrator, over NATS, HTTP or both:
 *
 *   const client = await OrchestratorClient.connect({ natsUrl: 'nats://127.0.0.1:14222', httpUrl: 'http://127.0.0.1:3000' });
 *   const response = await client.run({ task_id: 'post-1', task_type: 'create_blog_post', payload: { topic: 'Graphs' } });
 *   await client.close();
 */
export * from './history-stream.js';
export * from './http-api.js';
export * from './orchestrator-client.js';
export * from './orchestrator-error.js';
export { approvalPayload, type ApprovalOptions, type ApprovalsFilter, type SignalOptions } from './signals.js';
export * from './schedule-input.js';
export * from './submit-task-input.js';
export { TaskEventStream, type TaskLifecycleEvent } from './task-events.js';
export * from './schedules-client.js';
