import { NoRespondersError, RequestError, TimeoutError, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  externalEventSubject,
  isPlainObject,
  isTerminalStatus,
  ORCHESTRATOR_CANCEL_SUBJECT,
  ORCHESTRATOR_SIGNAL_SUBJECT,
  ORCHESTRATOR_TASK_SUBJECT,
  parseTaskResponse,
  TaskEvent,
  TaskStatus,
  type CancelTaskReply,
  type SignalReply,
  type TaskResponse,
} from '@orchestrator/contracts';
import { natsRejection, OrchestratorError } from './orchestrator-error.js';
import { isAccepted, signalRefusal, type SignalOptions } from './signals.js';
import type { SubmitTaskInput } from './submit-task-input.js';
import { FINAL_EVENTS, finalResponseOf, type TaskEventHub } from './task-events.js';

/** What a submission over NATS learnt: the task's state, and its final response to come. */
export interface NatsSubmitted {
  task_id: string;
  status: TaskStatus;
  existing: boolean;
  /** Resolves with the final response; `stop()` stops listening for it. */
  final: Promise<TaskResponse>;
  stop: () => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Submission, cancellation and signals on `agent.orchestrator_agent.task`, `.cancel` and `.signal`; external events. */
export class NatsApi {
  constructor(
    private readonly nc: NatsConnection,
    private readonly hub: TaskEventHub,
  ) {}

  /**
   * Sends the request with a reply subject. The orchestrator answers at once only a refusal or a
   * repeat of a known request (its state); an accepted one shows as a `task_created` event, and
   * its final response comes on the reply subject and as a final event. Listening starts before
   * sending, so nothing is missed.
   */
  async submit(request: SubmitTaskInput, timeoutMs: number): Promise<NatsSubmitted> {
    const taskId = request.task_id;
    let accepted: (status: TaskStatus) => void = () => undefined;
    // RUNNING, or PENDING for a task that starts later (`not_before`).
    const acceptance = new Promise<TaskStatus>((resolve) => (accepted = resolve));
    let settle: (response: TaskResponse) => void = () => undefined;
    const final = new Promise<TaskResponse>((resolve) => (settle = resolve));
    const stopListening = await this.hub.listen([TaskEvent.Created, ...FINAL_EVENTS], ({ event, data }) => {
      if (data.task_id !== taskId) return;
      if (event === TaskEvent.Created) accepted(data.status === TaskStatus.Pending ? TaskStatus.Pending : TaskStatus.Running);
      else settle(finalResponseOf(data as Parameters<typeof finalResponseOf>[0]));
    });
    void final.then(stopListening);
    let created = false;
    void acceptance.then(() => (created = true));

    const reply = this.nc.request(ORCHESTRATOR_TASK_SUBJECT, encoder.encode(JSON.stringify(request)), { timeout: timeoutMs });
    const outcome = await Promise.race([
      acceptance.then((status) => ({ kind: 'accepted', status }) as const),
      reply
        .then((msg) => ({ kind: 'answer', response: responseOf(msg) }) as const)
        .catch((error: unknown) => ({ kind: 'error', error }) as const),
    ]);
    // The final response may come on the reply subject too (the same one as the event).
    reply
      .then((msg) => {
        const response = responseOf(msg);
        if (created && isTerminalStatus(response.status)) settle(response);
      })
      .catch(() => undefined);

    switch (outcome.kind) {
      case 'accepted':
        return { task_id: taskId, status: outcome.status, existing: false, final, stop: stopListening };
      case 'error':
        stopListening();
        throw requestFailure(outcome.error, ORCHESTRATOR_TASK_SUBJECT, timeoutMs);
      case 'answer': {
        const { response } = outcome;
        if (created) {
          // Accepted, and finished before the race was read: this is the final response.
          settle(response);
          return { task_id: taskId, status: TaskStatus.Running, existing: false, final, stop: stopListening };
        }
        if (response.status === TaskStatus.Failed) {
          stopListening();
          throw natsRejection(response);
        }
        if (isTerminalStatus(response.status)) settle(response);
        return { task_id: taskId, status: response.status, existing: true, final, stop: stopListening };
      }
    }
  }

  /** `{ task_id }` on `agent.orchestrator_agent.cancel`; the answer is the task's state. */
  async cancel(taskId: string, timeoutMs: number): Promise<CancelTaskReply> {
    let msg: Msg;
    try {
      msg = await this.nc.request(ORCHESTRATOR_CANCEL_SUBJECT, encoder.encode(JSON.stringify({ task_id: taskId })), { timeout: timeoutMs });
    } catch (error) {
      throw requestFailure(error, ORCHESTRATOR_CANCEL_SUBJECT, timeoutMs);
    }
    const response = responseOf(msg);
    if (response.status === TaskStatus.Cancelled) return { task_id: response.task_id, status: response.status };
    if (response.task_id === '') throw natsRejection(response);
    if (/^task_id: no task /.test(response.error ?? '')) {
      throw new OrchestratorError(response.error ?? `no task ${taskId}`, { code: 'TASK_NOT_FOUND', taskId, field: 'task_id', response });
    }
    throw new OrchestratorError(`task ${taskId} has already finished as ${response.status}`, { code: 'TASK_FINISHED', taskId, response });
  }

  /** `{ task_id, signal, payload, signal_id? }` on `agent.orchestrator_agent.signal`; a refusal throws with its code. */
  async signal(taskId: string, signal: string, payload: Record<string, unknown>, options: SignalOptions, timeoutMs: number): Promise<SignalReply> {
    const body = { task_id: taskId, signal, payload, ...(options.signalId !== undefined ? { signal_id: options.signalId } : {}) };
    let msg: Msg;
    try {
      msg = await this.nc.request(ORCHESTRATOR_SIGNAL_SUBJECT, encoder.encode(JSON.stringify(body)), { timeout: timeoutMs });
    } catch (error) {
      throw requestFailure(error, ORCHESTRATOR_SIGNAL_SUBJECT, timeoutMs);
    }
    let reply: unknown;
    try {
      reply = JSON.parse(decoder.decode(msg.data));
    } catch {
      throw new OrchestratorError('the orchestrator answered a signal with something that is not JSON', { code: 'BAD_ANSWER' });
    }
    if (!isPlainObject(reply) || typeof reply['status'] !== 'string') throw new OrchestratorError('the answer to a signal has no status', { code: 'BAD_ANSWER' });
    const answer = reply as unknown as SignalReply;
    if (!isAccepted(answer)) throw signalRefusal(answer);
    return answer;
  }

  /** Publishes an external event on `platform.events.external.<name>` (nothing answers it). */
  async publishEvent(name: string, event: Record<string, unknown>): Promise<void> {
    this.nc.publish(externalEventSubject(name), encoder.encode(JSON.stringify(event)));
    await this.nc.flush();
  }
}

function responseOf(msg: Msg): TaskResponse {
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(msg.data));
  } catch {
    throw new OrchestratorError('the orchestrator answered with something that is not JSON', { code: 'BAD_ANSWER' });
  }
  const parsed = parseTaskResponse(body);
  if (!parsed.ok) throw new OrchestratorError(`the orchestrator's answer is not a TaskResponse: ${parsed.error}`, { code: 'BAD_ANSWER' });
  return parsed.value;
}

function requestFailure(error: unknown, subject: string, timeoutMs: number): OrchestratorError {
  if (error instanceof OrchestratorError) return error;
  if (error instanceof NoRespondersError || (error instanceof RequestError && error.isNoResponders())) {
    return new OrchestratorError(`no orchestrator listens on ${subject}`, { code: 'NO_RESPONDERS' }, { cause: error });
  }
  if (error instanceof TimeoutError) {
    return new OrchestratorError(`no answer on ${subject} within ${timeoutMs} ms`, { code: 'TIMEOUT' }, { cause: error });
  }
  return new OrchestratorError(`${subject}: ${error instanceof Error ? error.message : String(error)}`, { code: 'UNAVAILABLE' }, { cause: error });
}
