import { ErrorCode } from '@orchestrator/contracts';
import type { InboundMessage } from '../transport/inbound-message.js';

/** Why a message could not be read: too large, or not JSON (or not UTF-8). */
export function unreadableCode(message: InboundMessage): ErrorCode {
  return !message.body.ok && message.body.tooLarge === true ? ErrorCode.PayloadTooLarge : ErrorCode.InvalidRequest;
}
