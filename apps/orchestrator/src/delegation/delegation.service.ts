import { Injectable } from '@nestjs/common';
import {
  agentCancelSubject,
  agentTaskSubject,
  orchestratorReplySubject,
  type TaskRequest,
} from '@orchestrator/contracts';
import type { PlannedStep } from '../planning/plan.js';
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
}

/** Chooses the agent for a step's attempt and delivers sub-task and cancel messages. */
@Injectable()
export class DelegationService {
  constructor(private readonly publisher: MessagePublisher) {}

  /**
   * The step's agent, then its fallbacks in turn: attempt n goes to candidate (n-1) mod count,
   * so a retry goes to another agent than the one that just failed it, when there is one.
   */
  chooseAgent(step: PlannedStep, attempt: number): string {
    const candidates = [step.agent, ...step.fallbacks];
    return candidates[(attempt - 1) % candidates.length];
  }

  /** Publishes a sub-task; every replica listens on its reply subject. */
  dispatch({ agent, request, rootTaskId, stepKey, attempt }: Dispatch): void {
    this.publisher.publish(agentTaskSubject(agent), request, {
      reply: orchestratorReplySubject(this.publisher.replicaId, request.task_id),
      headers: {
        [SUBTASK_HEADERS.rootTaskId]: rootTaskId,
        [SUBTASK_HEADERS.step]: stepKey,
        [SUBTASK_HEADERS.attempt]: String(attempt),
      },
    });
  }

  cancel(agent: string, subtaskId: string): void {
    this.publisher.publish(agentCancelSubject(agent), { task_id: subtaskId });
  }
}
