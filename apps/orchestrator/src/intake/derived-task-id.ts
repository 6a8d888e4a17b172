import { createHash } from 'node:crypto';

/** What identifies one message for good: its `Nats-Msg-Id` when it has one, else its place in its stream. */
export interface MessageIdentity {
  stream: string;
  sequence: number;
  /** When the stream stored it (ns): a sequence the stream reuses after it was purged or made again is another message. */
  storedAtNanos: number;
  msgId?: string;
}

/**
 * The task_id of a request that came without one, derived from what identifies its message, in the
 * form of a UUID (version 8, name-based): every delivery of the same message gets the same id, so
 * a delivery again finds its workflow rather than starting a second. A publisher's `Nats-Msg-Id`
 * wins over the place in the stream: publishing again under the same id is the same task too.
 */
export function derivedTaskId(message: MessageIdentity): string {
  const name = message.msgId ? `msg-id\u0000${message.msgId}` : `stream\u0000${message.stream}\u0000${message.sequence}\u0000${message.storedAtNanos}`;
  const hex = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
