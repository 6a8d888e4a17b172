import { APPROVAL_SIGNAL, SignalStatus, type SignalReply } from '@orchestrator/contracts';
import { fieldOf, OrchestratorError } from './orchestrator-error.js';

export interface SignalOptions {
  /** Makes a repeat recognisable: the same signal_id twice for one workflow is taken once. */
  signalId?: string;
}

export interface ApprovalOptions extends SignalOptions {
  comment?: string;
  /** The signal the approval step waits for; default `approval`. */
  signal?: string;
}

/** `GET /approvals` filters. */
export interface ApprovalsFilter {
  signal?: string;
  /** 1 to 100, default 20. */
  limit?: number;
  cursor?: string;
}

/** The payload of the common approval: `{ approved, comment? }`. */
export function approvalPayload(approved: boolean, options: ApprovalOptions): { signal: string; payload: Record<string, unknown> } {
  return {
    signal: options.signal ?? APPROVAL_SIGNAL,
    payload: { approved, ...(options.comment !== undefined ? { comment: options.comment } : {}) },
  };
}

/** The error for a signal refused over NATS, with the code the orchestrator gave (the same as over HTTP). */
export function signalRefusal(reply: SignalReply): OrchestratorError {
  const message = reply.error ?? `signal ${reply.signal} refused`;
  const code = reply.code ?? 'REJECTED';
  const field = code === 'INVALID_PAYLOAD' || code === 'INVALID_REQUEST' ? fieldOf(message) : undefined;
  return new OrchestratorError(message, { code, taskId: reply.task_id, ...(field !== undefined ? { field } : {}) });
}

export function isAccepted(reply: SignalReply): boolean {
  return reply.status === SignalStatus.Accepted;
}
