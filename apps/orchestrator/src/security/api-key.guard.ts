import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ErrorCode } from '@orchestrator/contracts';
import type { Request } from 'express';
import { AppConfig } from '../config/app-config.js';

/** Liveness and readiness stay open for orchestrators of containers and load balancers. */
const OPEN_PATHS = new Set(['/health/live', '/health/ready']);

/** Event streams, which a browser's EventSource opens without headers: the key may come as `?api_key=`. */
const STREAM_PATH = /^\/(?:tasks\/[^/]+|events)\/stream$/;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * When API_KEY is set, every HTTP route but liveness and readiness needs it, as `X-API-Key` or
 * `Authorization: Bearer` (the event streams also take it as `?api_key=`). Compared in constant time (digests of equal length). NATS handlers
 * are not HTTP and are secured by the NATS server's own authorization.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(config: AppConfig) {
    this.expected = config.API_KEY ? digest(config.API_KEY) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null || context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (OPEN_PATHS.has(req.path)) return true;
    const header = req.headers['x-api-key'];
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const param = STREAM_PATH.test(req.path) ? req.query['api_key'] : undefined;
    const given = typeof header === 'string' ? header : (bearer ?? (typeof param === 'string' ? param : undefined));
    if (given !== undefined && timingSafeEqual(digest(given), this.expected)) return true;
    throw new UnauthorizedException({ code: ErrorCode.Unauthorized, message: 'an API key is required: send it as X-API-Key or Authorization: Bearer (on event streams, ?api_key= too)' });
  }
}
