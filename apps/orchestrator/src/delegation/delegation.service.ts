import { Injectable } from '@nestjs/common';
import { agentCancelSubject, agentTaskSubject, ORCHESTRATOR_AGENT_NAME, ORCHESTRATOR_WORKFLOW_SUBJECT, orchestratorReplySubject } from '@orchestrator/contracts';
import type { Dispatch } from '../engine/effects.js';
import { MessagePublisher } from '../transport/message-publisher.js';

/** Headers that tell an agent which workflow, step and attempt a sub-task belongs to. */
export const SUBTASK_HEADERS = {
  rootTaskId: 'Orchestrator-Root-Task-Id',
  step: 'Orchestrator-Step',
  attempt: 'Orchestrator-Attempt',
  /** On a sub-task to the orchestrator itself (a `workflow:` step): the depth the workflow it starts runs at. */
  depth: 'Orchestrator-Workflow-Depth',
  /** On such a sub-task too: the key the parent's steps take turns by, which the child's take by as well. */
  fairnessKey: 'Orchestrator-Fairness-Key',
} as const;

/** Delivers sub-task and cancel messages. */
@Injectable()
export class DelegationService {
  constructor(private readonly publisher: MessagePublisher) {}

  /** Publishes a sub-task; every replica listens on its reply subject. A `workflow:` step's goes to the orchestrators' own subject. */
  dispatch({ agent, data, subtaskId, rootTaskId, stepKey, attempt, depth, fairnessKey, traceparent }: Dispatch): void {
    const subject = agent === ORCHESTRATOR_AGENT_NAME ? ORCHESTRATOR_WORKFLOW_SUBJECT : agentTaskSubject(agent);
    this.publisher.publish(subject, data, {
      reply: orchestratorReplySubject(this.publisher.replicaId, subtaskId),
      headers: {
        [SUBTASK_HEADERS.rootTaskId]: rootTaskId,
        [SUBTASK_HEADERS.step]: stepKey,
        [SUBTASK_HEADERS.attempt]: String(attempt),
        ...(depth !== null ? { [SUBTASK_HEADERS.depth]: String(depth), [SUBTASK_HEADERS.fairnessKey]: encodeURIComponent(fairnessKey) } : {}),
        ...(traceparent ? { traceparent } : {}),
      },
    });
  }

  cancel(agent: string, subtaskId: string): void {
    this.publisher.publish(agentCancelSubject(agent), { task_id: subtaskId });
  }
}
