/** Subject names of the platform (CONTRACT.md). Spelled here and nowhere else. */
import { assertAgentName, assertEventName, isEventName } from './names.js';

export const ORCHESTRATOR_AGENT_NAME = 'orchestrator_agent';

export const ORCHESTRATOR_TASK_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.task`;
export const ORCHESTRATOR_CANCEL_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.cancel`;
/** `{ "task_id": ... }`: a FAILED or CANCELLED workflow resumes from its unfinished steps. */
export const ORCHESTRATOR_RETRY_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.retry`;
/** `{ "task_id": ... }`: the same request again, under a new task_id. */
export const ORCHESTRATOR_RERUN_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.rerun`;
/**
 * Where the orchestrator sends the sub-tasks of its own `workflow:` steps, each starting a child
 * workflow under the sub-task's id (`<uuid>:<attempt>`). Only the orchestrator publishes here (the
 * NATS permissions in docs/deploy.md say so); ids of that shape are refused on the public subject.
 */
export const ORCHESTRATOR_WORKFLOW_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.workflow`;
/**
 * Reply subjects of sub-tasks: `agent.orchestrator_agent.reply.<replica>.<sub-task id>`. Every
 * replica listens on all of them (queue group), so an answer outlives the replica that asked; the
 * replica part lets NATS tell the asking replica at once when no agent is subscribed.
 */
export const ORCHESTRATOR_REPLY_PREFIX = `agent.${ORCHESTRATOR_AGENT_NAME}.reply`;
export const ORCHESTRATOR_REPLY_WILDCARD = `${ORCHESTRATOR_REPLY_PREFIX}.>`;

export function orchestratorReplySubject(replicaId: string, subtaskId: string): string {
  return `${ORCHESTRATOR_REPLY_PREFIX}.${replicaId}.${subtaskId}`;
}

/** The sub-task id at the end of a reply subject, or null when the subject is not one. */
export function subtaskIdFromReplySubject(subject: string): string | null {
  if (!subject.startsWith(`${ORCHESTRATOR_REPLY_PREFIX}.`)) return null;
  const parts = subject.slice(ORCHESTRATOR_REPLY_PREFIX.length + 1).split('.');
  return parts.length === 2 && parts[1] ? parts[1] : null;
}
/** `{ task_id, signal, payload?, signal_id? }`: a signal for a workflow's step waiting for it (`wait_for: { signal }`). */
export const ORCHESTRATOR_SIGNAL_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.signal`;
export const ORCHESTRATOR_QUEUE_GROUP = ORCHESTRATOR_AGENT_NAME;

export const AGENT_RESPONSE_WILDCARD = 'agent.*.response';
/** Progress reports of agents inside a sub-task: `agent.<name>.progress`. */
export const AGENT_PROGRESS_WILDCARD = 'agent.*.progress';
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

export function agentProgressSubject(agentName: string): string {
  return `agent.${assertAgentName(agentName)}.progress`;
}

/** The agent name in `agent.<name>.response`, or null when the subject is not of that shape. */
export function agentNameFromResponseSubject(subject: string): string | null {
  return agentNameFromSubject(subject, 'response');
}

/** The agent name in `agent.<name>.progress`, or null when the subject is not of that shape. */
export function agentNameFromProgressSubject(subject: string): string | null {
  return agentNameFromSubject(subject, 'progress');
}

function agentNameFromSubject(subject: string, kind: string): string | null {
  const parts = subject.split('.');
  if (parts.length !== 3 || parts[0] !== 'agent' || parts[2] !== kind) return null;
  return parts[1] ?? null;
}

/**
 * A workflow's history as it is committed: every replica relays these to its stream clients.
 * `platform.events.history.<task_type>`, one message per workflow per committed batch.
 */
export const HISTORY_SUBJECT_PREFIX = 'platform.events.history';
export const HISTORY_WILDCARD = `${HISTORY_SUBJECT_PREFIX}.>`;

export function historySubject(taskType: string): string {
  return `${HISTORY_SUBJECT_PREFIX}.${taskType}`;
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

/**
 * Durable intake: the JetStream stream that keeps what is published on
 * `agent.orchestrator_agent.task` (and on nothing else), and the durable pull consumer that every
 * orchestrator replica takes it from.
 */
export const ORCHESTRATOR_INTAKE_STREAM = 'ORCHESTRATOR_INTAKE';
export const ORCHESTRATOR_INTAKE_CONSUMER = ORCHESTRATOR_AGENT_NAME;

/**
 * Answers that found the orchestrator's answer inbox full, kept (by the orchestrator, under
 * durable intake) in the JetStream stream `ORCHESTRATOR_ANSWERS` until it has room. Only the
 * orchestrator publishes here.
 */
export const ORCHESTRATOR_ANSWER_OVERFLOW_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.answers`;
export const ORCHESTRATOR_ANSWERS_STREAM = 'ORCHESTRATOR_ANSWERS';

/**
 * Events of other systems, `platform.events.external.<name>` (plain JSON): each resumes the steps
 * waiting for `<name>` (`wait_for: { event }`) whose `match` fields all equal its own.
 */
export const EXTERNAL_EVENT_PREFIX = 'platform.events.external';
export const EXTERNAL_EVENT_WILDCARD = `${EXTERNAL_EVENT_PREFIX}.>`;

export function externalEventSubject(name: string): string {
  return `${EXTERNAL_EVENT_PREFIX}.${assertEventName(name)}`;
}

/** The event name in `platform.events.external.<name>`, or null when the subject is not one (or the name breaks the rule). */
export function eventNameFromSubject(subject: string): string | null {
  if (!subject.startsWith(`${EXTERNAL_EVENT_PREFIX}.`)) return null;
  const name = subject.slice(EXTERNAL_EVENT_PREFIX.length + 1);
  return isEventName(name) ? name : null;
}
