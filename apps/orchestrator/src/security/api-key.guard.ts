import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig } from '../config/app-config.js';
import { ApiKeyCheck, UNAUTHORIZED } from './api-key.js';

/** Liveness and readiness stay open for orchestrators of containers and load balancers. */
const OPEN_PATHS = new Set(['/health/live', '/health/ready']);

/** Event streams, which a browser's EventSource opens without headers: the key may come as `?api_key=`. */
const STREAM_PATH = /^\/(?:tasks\/[^/]+|events)\/stream$/;

/**
 * When API_KEY is set, every HTTP route but liveness and readiness needs it (see ApiKeyCheck; the
 * OpenAPI pages at /docs, served outside Nest's routing, check it with the same middleware). NATS
 * handlers are not HTTP and are secured by the NATS server's own authorization.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly check: ApiKeyCheck;

  constructor(config: AppConfig) {
    this.check = new ApiKeyCheck(config.API_KEY);
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (OPEN_PATHS.has(req.path) || this.check.allows(req, STREAM_PATH.test(req.path))) return true;
    throw new UnauthorizedException(UNAUTHORIZED);
  }
}
