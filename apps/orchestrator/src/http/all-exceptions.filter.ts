import { randomUUID } from 'node:crypto';
import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ErrorCode } from '@orchestrator/contracts';
import type { Request, Response } from 'express';

/** What body-parser puts in the errors Nest maps to 400 and 413. */
interface BodyParserError {
  type?: string;
  message?: string;
  limit?: number;
}

/**
 * The one place HTTP errors are shaped: `{ code, message }` with a 4xx for what the caller can fix
 * (including bodies the JSON parser refused), and a generic 500 with a correlation id otherwise.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const { status, body } = this.toReply(exception, req);
    res.status(status).json(body);
  }

  private toReply(exception: unknown, req: Request): { status: number; body: Record<string, unknown> } {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const cause = exception.cause as BodyParserError | undefined;
      if (cause?.type === 'entity.parse.failed') {
        return { status, body: { code: ErrorCode.InvalidRequest, message: `body: is not valid JSON (${cause.message ?? ''})` } };
      }
      if (cause?.type === 'entity.too.large') {
        return { status, body: { code: ErrorCode.PayloadTooLarge, message: `body: exceeds the limit of ${cause.limit ?? '?'} bytes` } };
      }
      const response = exception.getResponse();
      if (typeof response === 'object' && response !== null && 'code' in response) return { status, body: response };
      const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      return { status, body: { code: codeOf(status), message: Array.isArray(message) ? message.join('; ') : message } };
    }
    const correlationId = randomUUID();
    this.logger.error(`${req.method} ${req.url} failed [${correlationId}]: ${(exception as Error)?.stack ?? String(exception)}`);
    return { status: 500, body: { code: ErrorCode.InternalError, message: 'internal error', correlation_id: correlationId } };
  }
}

/** The code of an error that came without one (from the framework: no such route, a method not allowed), in the API's one vocabulary. */
const CODES = new Map<number, ErrorCode>([
  [HttpStatus.UNAUTHORIZED, ErrorCode.Unauthorized],
  [HttpStatus.NOT_FOUND, ErrorCode.NotFound],
  [HttpStatus.PAYLOAD_TOO_LARGE, ErrorCode.PayloadTooLarge],
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE, ErrorCode.UnsupportedMediaType],
  [HttpStatus.SERVICE_UNAVAILABLE, ErrorCode.Unavailable],
]);

function codeOf(status: number): ErrorCode {
  return CODES.get(status) ?? (status >= 400 && status < 500 ? ErrorCode.InvalidRequest : ErrorCode.InternalError);
}
