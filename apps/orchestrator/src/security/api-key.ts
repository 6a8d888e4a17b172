import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ErrorCode } from '@orchestrator/contracts';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

export const UNAUTHORIZED = {
  code: ErrorCode.Unauthorized,
  message: 'an API key is required: send it as X-API-Key or Authorization: Bearer (on event streams and /docs, ?api_key= too)',
} as const;

/** The cookie a browser gets for the OpenAPI pages once it opened /docs?api_key=: its scripts are fetched without the query. */
const DOCS_COOKIE = 'orchestrator_docs';

/**
 * Whether a request carries API_KEY: as `X-API-Key`, as `Authorization: Bearer`, or, where a
 * browser cannot set headers (an EventSource, a page opened by a link), as `?api_key=`. Compared
 * in constant time (digests of equal length). Without API_KEY every request passes.
 */
export class ApiKeyCheck {
  private readonly expected: Buffer | null;
  /** What the docs cookie holds: derived from the key, never the key itself. */
  private readonly docsToken: Buffer | null;

  constructor(apiKey: string | undefined) {
    this.expected = apiKey ? digest(apiKey) : null;
    this.docsToken = apiKey ? createHmac('sha256', apiKey).update(DOCS_COOKIE).digest() : null;
  }

  allows(req: Request, fromQuery: boolean): boolean {
    if (this.expected === null) return true;
    const header = req.headers['x-api-key'];
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const param = fromQuery ? req.query['api_key'] : undefined;
    const given = typeof header === 'string' ? header : (bearer ?? (typeof param === 'string' ? param : undefined));
    return given !== undefined && timingSafeEqual(digest(given), this.expected);
  }

  /**
   * Express middleware for the OpenAPI pages, outside Nest's guards: the key as anywhere else, or
   * the cookie set when the page was opened with it (Path=/docs, HttpOnly, SameSite=Strict), which
   * the page's own scripts and document carry.
   */
  docsMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      if (this.docsToken === null || this.hasDocsCookie(req)) return next();
      if (!this.allows(req, true)) {
        res.status(401).json(UNAUTHORIZED);
        return;
      }
      res.cookie(DOCS_COOKIE, this.docsToken.toString('base64url'), { path: '/docs', httpOnly: true, sameSite: 'strict' });
      next();
    };
  }

  private hasDocsCookie(req: Request): boolean {
    const value = new RegExp(`(?:^|;\\s*)${DOCS_COOKIE}=([\\w-]+)`).exec(req.headers.cookie ?? '')?.[1];
    if (value === undefined || this.docsToken === null) return false;
    const given = Buffer.from(value, 'base64url');
    return given.length === this.docsToken.length && timingSafeEqual(given, this.docsToken);
  }
}
