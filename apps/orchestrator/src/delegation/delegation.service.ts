import { Injectable } from '@nestjs/common';
import {
  agentCancelSubject,
  agentTaskSubject,
  orchestratorReplySubject,
  type TaskRequest,
} from '@orchestrator/contracts';
import { MessagePublisher } from '../transport/message-publisher.js';

/** Headers that tell an agent which workflow, step and attempt a sub-task belongs to. */
export const SUBTASK_HEADERS = {
  rootTaskId: 'Orchestrator-Root-Task-Id',
  step: 'Orchestrator-Step',
  attempt: 'Orchestrator-Attempt',
} as const;

export interface Dispatch {
  agent: string;
  request: TaskRequest;
  rootTaskId: string;
  stepKey: string;
  attempt: number;
  traceparent: string | null;
}

/** Delivers sub-task and cancel messages. */
@Injectable()
export class DelegationService {
  constructor(private readonly publisher: MessagePublisher) {}

  /** Publishes a sub-task; every replica listens on its reply subject. */
  dispatch({ agent, request, rootTaskId, stepKey, attempt, traceparent }: Dispatch): void {
    this.publisher.publish(agentTaskSubject(agent), request, {
      reply: orchestratorReplySubject(this.publisher.replicaId, request.task_id),
      headers: {
        [SUBTASK_HEADERS.rootTaskId]: rootTaskId,
        [SUBTASK_HEADERS.step]: stepKey,
        [SUBTASK_HEADERS.attempt]: String(attempt),
        ...(traceparent ? { traceparent } : {}),
      },
    });
  }

  cancel(agent: string, subtaskId: string): void {
    this.publisher.publish(agentCancelSubject(agent), { task_id: subtaskId });
  }
}
