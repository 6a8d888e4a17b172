import { createHash } from 'node:crypto';
import type { MsgHdrs } from '@nats-io/transport-node';
import { LRUCache } from 'lru-cache';

/** How long a reply subject waits for the stream's copy of its request (a backlog in the stream). */
const REPLY_TTL_MS = 10 * 60_000;
/** Requests whose reply subjects are remembered at most: past that the oldest are forgotten (their answers go to agent.<requester_id>.response). */
const MAX_REMEMBERED = 100_000;

/** A message as NATS and JetStream give it. */
interface MessageBytes {
  data: Uint8Array;
  headers?: MsgHdrs;
}

/** What identifies a request's content, the same for a message on core NATS and its copy in the stream. */
export function requestKey(msg: MessageBytes): string {
  const hash = createHash('sha256');
  if (msg.headers) {
    const lines = [...msg.headers].map(([name, values]) => `${name.toLowerCase()}:${values.join(',')}\n`).sort();
    for (const line of lines) hash.update(line);
  }
  hash.update('\n');
  hash.update(msg.data);
  return hash.digest('base64url');
}

/**
 * Reply subjects of requests under durable intake. A JetStream stream keeps a message but not its
 * reply subject, so every replica also listens on `agent.orchestrator_agent.task` itself (not in
 * the queue group: the stream's copy may go to any replica) and notes the reply subject of each
 * request by its content. It listens on the connection it pulls the stream's copies on, and the
 * server writes a message to a connection before the stream's copy of it, so the replica that
 * takes a copy has noted its reply subject already (unless it was not listening when the request
 * was published: every replica down, or it started later). Each noted subject goes to one copy,
 * and stays with that copy (`messageKey`) for its deliveries again.
 */
export class RequestReplies {
  private readonly replies = new LRUCache<string, string[]>({ max: MAX_REMEMBERED, ttl: REPLY_TTL_MS });
  /** Copies taken before their request's reply subject was noted, waiting a moment for it, by request key. */
  private readonly waiting = new Map<string, Set<() => void>>();

  note(msg: MessageBytes, reply: string): void {
    const key = requestKey(msg);
    this.replies.set(key, [...(this.replies.get(key) ?? []), reply]);
    for (const wake of this.waiting.get(key) ?? []) wake();
  }

  /**
   * `take`, and when nothing was noted for this copy yet, waits up to `waitMs` for its request's
   * reply subject to be noted: under a burst the stream's copy can be handled before the request
   * itself (seen on a loaded replica), and its answer would go nowhere. A request sent without a
   * reply subject (a plain publish) waits the whole `waitMs`.
   */
  async takeOrWait(msg: MessageBytes, messageKey: string, waitMs: number): Promise<string | undefined> {
    const now = this.take(msg, messageKey);
    if (now !== undefined || waitMs <= 0) return now;
    const key = requestKey(msg);
    const wakers = this.waiting.get(key) ?? new Set<() => void>();
    this.waiting.set(key, wakers);
    let wake: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      wakers.add(wake);
      timer = setTimeout(resolve, waitMs);
    });
    clearTimeout(timer);
    wakers.delete(wake);
    if (wakers.size === 0) this.waiting.delete(key);
    return this.take(msg, messageKey);
  }

  /** The reply subject of the request this copy of the stream came from, or undefined when none was noted. */
  take(msg: MessageBytes, messageKey: string): string | undefined {
    const bound = this.replies.get(`copy:${messageKey}`)?.[0];
    if (bound !== undefined) return bound;
    const key = requestKey(msg);
    const [reply, ...rest] = this.replies.get(key) ?? [];
    if (reply === undefined) return undefined;
    if (rest.length > 0) this.replies.set(key, rest);
    else this.replies.delete(key);
    this.replies.set(`copy:${messageKey}`, [reply]);
    return reply;
  }

  /** The copy was acknowledged: it is not delivered again. */
  forget(messageKey: string): void {
    this.replies.delete(`copy:${messageKey}`);
  }
}
