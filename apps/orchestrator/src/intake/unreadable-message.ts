import { ErrorCode } from '@orchestrator/contracts';
import type { InboundMessage } from '../transport/inbound-message.js';

/** Why a message could not be read: too large (its bytes are kept apart), or not JSON. */
export function unreadableCode(message: InboundMessage): ErrorCode {
  return message.raw.length > 0 ? ErrorCode.PayloadTooLarge : ErrorCode.InvalidRequest;
}
