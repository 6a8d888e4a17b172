import { UnsupportedMediaTypeException } from '@nestjs/common';
import { ErrorCode } from '@orchestrator/contracts';

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * A request body is read as JSON only when it says it is (`Content-Type: application/json`);
 * another one (curl -d sends a form) is refused with 415 naming what came, rather than read as
 * empty and answered with every field missing.
 */
export function requireJsonBody(headers: Record<string, string | string[] | undefined>): void {
  const length = Number(headers['content-length'] ?? 0);
  const sent = length > 0 || headers['transfer-encoding'] !== undefined;
  const type = typeof headers['content-type'] === 'string' ? headers['content-type'] : undefined;
  if (!sent || (type !== undefined && JSON_TYPE.test(type))) return;
  throw new UnsupportedMediaTypeException({
    code: ErrorCode.UnsupportedMediaType,
    message: `body: must be JSON, sent with Content-Type: application/json (it came ${type ? `as ${type}` : 'without a Content-Type'})`,
  });
}
