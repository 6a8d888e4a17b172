/** Subject names of the platform (CONTRACT.md). Spelled here and nowhere else. */
import { assertAgentName } from './names.js';

export const ORCHESTRATOR_AGENT_NAME = 'orchestrator_agent';

export const ORCHESTRATOR_TASK_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.task`;
export const ORCHESTRATOR_CANCEL_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.cancel`;
/** Reply subject of every sub-task: all replicas listen on it (queue group), unlike a private inbox. */
export const ORCHESTRATOR_REPLY_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.reply`;
export const ORCHESTRATOR_QUEUE_GROUP = ORCHESTRATOR_AGENT_NAME;

export const AGENT_RESPONSE_WILDCARD = 'agent.*.response';
export const AGENT_REGISTERED_SUBJECT = 'platform.events.agent_registered';
export const AGENT_HEARTBEAT_SUBJECT = 'platform.events.agent_heartbeat';

export function agentTaskSubject(agentName: string): string {
  return `agent.${assertAgentName(agentName)}.task`;
}

export function agentResponseSubject(agentName: string): string {
  return `agent.${assertAgentName(agentName)}.response`;
}

export function agentCancelSubject(agentName: string): string {
  return `agent.${assertAgentName(agentName)}.cancel`;
}

/** The agent name in `agent.<name>.response`, or null when the subject is not of that shape. */
export function agentNameFromResponseSubject(subject: string): string | null {
  const parts = subject.split('.');
  if (parts.length !== 3 || parts[0] !== 'agent' || parts[2] !== 'response') return null;
  return parts[1] ?? null;
}

export enum TaskEvent {
  Created = 'task_created',
  Started = 'task_started',
  Progress = 'task_progress',
  Completed = 'task_completed',
  Failed = 'task_failed',
  Cancelled = 'task_cancelled',
}

export function taskEventSubject(event: TaskEvent): string {
  return `platform.events.${event}`;
}
