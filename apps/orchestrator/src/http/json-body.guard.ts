import { Injectable, UnsupportedMediaTypeException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ErrorCode } from '@orchestrator/contracts';
import type { Request } from 'express';

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Every route's request body is read as JSON only when it says it is (`Content-Type:
 * application/json`); another one (curl -d sends a form) is refused with 415 naming what came,
 * rather than read as empty and answered with every field missing.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const { headers } = context.switchToHttp().getRequest<Request>();
    const sent = Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
    const type = headers['content-type'];
    if (!sent || (type !== undefined && JSON_TYPE.test(type))) return true;
    throw new UnsupportedMediaTypeException({
      code: ErrorCode.UnsupportedMediaType,
      message: `body: must be JSON, sent with Content-Type: application/json (it came ${type ? `as ${type}` : 'without a Content-Type'})`,
    });
  }
}
