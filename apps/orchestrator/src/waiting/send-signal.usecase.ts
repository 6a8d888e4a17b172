import { Injectable } from '@nestjs/common';
import { parseSignalRequest, SignalStatus, type SignalReply } from '@orchestrator/contracts';
import type { SignalOutcome } from '../engine/transitions/signal.transition.js';
import { WaitingWorkflows } from '../engine/waits/waiting-workflows.service.js';
import type { Sender } from '../engine/workflow-signals.js';

/** Why a signal was refused, for the HTTP status and the client libraries: a stable code. */
export type SignalRefusal = 'INVALID_REQUEST' | 'INVALID_PAYLOAD' | 'TASK_NOT_FOUND' | 'TASK_FINISHED' | 'NO_WAITING_STEP';

export type SignalAnswer = { reply: SignalReply; refusal: SignalRefusal | null };

/** Sends a signal to a workflow, from any transport: the same checks, the same answers. */
@Injectable()
export class SendSignalUseCase {
  constructor(private readonly waiting: WaitingWorkflows) {}

  /** `body`: `{ task_id, signal, payload?, signal_id?, requester_id? }`. */
  async execute(body: unknown, via: Sender['via'], by: string | null = null): Promise<SignalAnswer> {
    const parsed = parseSignalRequest(body);
    if (!parsed.ok) return refused(body, 'INVALID_REQUEST', parsed.error);
    const request = parsed.value;
    const outcome = await this.waiting.signal(request, { via, by: request.requester_id ?? by });
    return answerOf(request.task_id, request.signal, outcome);
  }
}

function answerOf(taskId: string, signal: string, outcome: SignalOutcome): SignalAnswer {
  const accepted = (extra: Partial<SignalReply>): SignalAnswer => ({ reply: { task_id: taskId, signal, status: SignalStatus.Accepted, error: null, ...extra }, refusal: null });
  const no = (refusal: SignalRefusal, error: string): SignalAnswer => ({ reply: { task_id: taskId, signal, status: SignalStatus.Refused, error, code: refusal }, refusal });
  switch (outcome.kind) {
    case 'delivered':
      return accepted({ outcome: 'delivered', step: outcome.step });
    case 'kept':
      return accepted({ outcome: 'kept', step: outcome.step });
    case 'duplicate':
      return accepted({ duplicate: true });
    case 'unknown':
      return no('TASK_NOT_FOUND', `task_id: no task ${JSON.stringify(taskId)}`);
    case 'finished':
      return no('TASK_FINISHED', `task ${taskId} has already finished as ${outcome.status}`);
    case 'no-step':
      return no('NO_WAITING_STEP', `signal: ${outcome.reason}`);
    case 'invalid':
      return no('INVALID_PAYLOAD', outcome.error);
  }
}

function refused(body: unknown, refusal: SignalRefusal, error: string): SignalAnswer {
  const field = (name: string): string => {
    const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' ? value : '';
  };
  return { reply: { task_id: field('task_id'), signal: field('signal'), status: SignalStatus.Refused, error, code: refusal }, refusal };
}
