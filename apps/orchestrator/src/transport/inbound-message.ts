import type { Msg, MsgHdrs } from '@nats-io/transport-node';

export type ParsedBody = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * A NATS message as handlers see it: the raw JSON body already parsed (or the reason it could
 * not be), with the subject it came on and the reply subject, if any.
 */
export class InboundMessage {
  constructor(
    readonly subject: string,
    readonly body: ParsedBody,
    readonly reply: string | undefined,
    readonly headers: Readonly<Record<string, string>>,
    readonly bytes: number,
    /** The body as it came: for a handler that reads it even when `body` refused it for its size (an answer, to name its sub-task). */
    readonly raw: Uint8Array = new Uint8Array(),
  ) {}

  static fromNats(msg: Msg, maxBytes: number): InboundMessage {
    return InboundMessage.of(msg, msg.reply && msg.reply.length > 0 ? msg.reply : undefined, maxBytes);
  }

  /** A message kept by a JetStream stream (which keeps no reply subject: `reply` is where its answer goes, if known). */
  static of(msg: { subject: string; data: Uint8Array; headers?: MsgHdrs }, reply: string | undefined, maxBytes: number): InboundMessage {
    const headers: Record<string, string> = {};
    if (msg.headers) {
      for (const [key, values] of msg.headers) {
        if (values[0] !== undefined) headers[key.toLowerCase()] = values[0];
      }
    }
    return new InboundMessage(msg.subject, parseBody(msg.data, maxBytes), reply, headers, msg.data.length, msg.data);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function parseBody(data: Uint8Array, maxBytes: number): ParsedBody {
  if (data.length > maxBytes) {
    return { ok: false, error: `message: ${data.length} bytes exceeds the limit of ${maxBytes} bytes` };
  }
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return { ok: false, error: 'message: is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: `message: is not valid JSON (${(error as Error).message})` };
  }
}
