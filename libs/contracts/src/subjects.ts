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
 * Where an orchestrator cancels the child workflow of a `workflow:` step (its attempt timed out,
 * its parent ended): `{ task_id, token }`, the token signed like the sub-task's reply subject.
 * Clients cancel only what they submitted, on `agent.orchestrator_agent.cancel`.
 */
export const ORCHESTRATOR_WORKFLOW_CANCEL_SUBJECT = `${ORCHESTRATOR_WORKFLOW_SUBJECT}.cancel`;
/**
 * Reply subjects of sub-tasks: `agent.orchestrator_agent.reply.<replica>.<token>.<sub-task id>`.
 * Every replica listens on all of them (queue group), so an answer outlives the replica that asked;
 * the replica part lets NATS tell the asking replica at once when no agent is subscribed. The token
 * is a keyed digest of the sub-task id that only orchestrators can make: an answer on a reply
 * subject without the right one did not come from the agent the sub-task was given to.
 */
export const ORCHESTRATOR_REPLY_PREFIX = `agent.${ORCHESTRATOR_AGENT_NAME}.reply`;
export const ORCHESTRATOR_REPLY_WILDCARD = `${ORCHESTRATOR_REPLY_PREFIX}.>`;

export function orchestratorReplySubject(replicaId: string, token: string, subtaskId: string): string {
  return `${ORCHESTRATOR_REPLY_PREFIX}.${replicaId}.${token}.${subtaskId}`;
}

/** The parts of a reply subject, or null when the subject is not one. */
export function parseReplySubject(subject: string): { replica: string; token: string; subtaskId: string } | null {
  if (!subject.startsWith(`${ORCHESTRATOR_REPLY_PREFIX}.`)) return null;
  const [replica, token, subtaskId, ...rest] = subject.slice(ORCHESTRATOR_REPLY_PREFIX.length + 1).split('.');
  if (!replica || !token || !subtaskId || rest.length > 0) return null;
  return { replica, token, subtaskId };
}
/** `{ task_id, signal, payload?, signal_id? }`: a signal for a workflow's step waiting for it (`wait_for: { signal }`). */
export const ORCHESTRATOR_SIGNAL_SUBJECT = `agent.${ORCHESTRATOR_AGENT_NAME}.signal`;
export const ORCHESTRATOR_QUEUE_GROUP = ORCHESTRATOR_AGENT_NAME;

export const AGENT_RESPONSE_WILDCARD = 'agent.*.response';
/** Progress reports of agents inside a sub-task: `agent.<name>.progress`. */
export const AGENT_PROGRESS_WILDCARD = 'agent.*.progress';
/**
 * The shared announcement subjects, which any agent may publish on under any name: trusting, for
 * agents without NATS authentication (AGENT_SHARED_ANNOUNCEMENTS turns them off). Agents announce
 * on their own subjects below, which a permissions file grants to each agent alone.
 */
export const AGENT_REGISTERED_SUBJECT = 'platform.events.agent_registered';
export const AGENT_HEARTBEAT_SUBJECT = 'platform.events.agent_heartbeat';

/** An agent's own announcement subjects: `platform.events.agent.<name>.registered` and `.heartbeat`. */
export const AGENT_ANNOUNCEMENT_PREFIX = 'platform.events.agent';
export type AnnouncementKind = 'registered' | 'heartbeat';
export const AGENT_REGISTERED_WILDCARD = `${AGENT_ANNOUNCEMENT_PREFIX}.*.registered`;
export const AGENT_HEARTBEAT_WILDCARD = `${AGENT_ANNOUNCEMENT_PREFIX}.*.heartbeat`;

export function agentAnnouncementSubject(agentName: string, kind: AnnouncementKind): string {
  return `${AGENT_ANNOUNCEMENT_PREFIX}.${assertAgentName(agentName)}.${kind}`;
}

/** The agent name in `platform.events.agent.<name>.<kind>`, or null when the subject is not of that shape. */
export function agentNameFromAnnouncementSubject(subject: string): string | null {
  const prefix = `${AGENT_ANNOUNCEMENT_PREFIX}.`;
  if (!subject.startsWith(prefix)) return null;
  const [name, kind, ...rest] = subject.slice(prefix.length).split('.');
  return name && (kind === 'registered' || kind === 'heartbeat') && rest.length === 0 ? name : null;
}

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
 * A replica reloaded its workflow files and they changed: every other replica reads its own files
 * again (those whose files are the same already have the same fingerprint). Body: a
 * WorkflowReloadView and the `replica` that sent it.
 */
export const WORKFLOWS_RELOADED_SUBJECT = 'platform.events.workflows_reloaded';

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
