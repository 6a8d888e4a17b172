import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Module, NotFoundException, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ErrorCode } from '@orchestrator/contracts';
import { ServeStaticModule } from '@nestjs/serve-static';
import type { NextFunction, Request, Response } from 'express';

/** Where `npm run build` puts the dashboard (apps/dashboard/dist), from apps/orchestrator/dist/dashboard/. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

/** The path the dashboard is served under. */
export const DASHBOARD_ROOT = '/ui';

/** Without a build, /ui says how to make one instead of answering a bare 404. */
@ApiExcludeController()
@Controller('ui')
class DashboardNotBuiltController {
  @Get(['', '*path'])
  missing(): never {
    throw new NotFoundException({ code: ErrorCode.NotFound, message: `the dashboard is not built (${DASHBOARD_DIR} has no index.html): run npm run build` });
  }
}

/**
 * The dashboard's files at /ui, with every other path under it answered by its index.html so that
 * a link such as /ui/tasks/<id> opens the app on that page. They are static files, served before the
 * API's guard: the page asks for the API key when the API answers 401.
 */
/** `GET /` leads a browser to the dashboard: the API has nothing at the root. Before the API's guard, like the dashboard's files. */
function toDashboard(req: Request, res: Response, next: NextFunction): void {
  if (req.path === '/') res.redirect(302, `${DASHBOARD_ROOT}/`);
  else next();
}

@Module({})
export class DashboardModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(toDashboard).forRoutes({ path: '/', method: RequestMethod.GET });
  }

  static register(dir: string = DASHBOARD_DIR): DynamicModule {
    if (!existsSync(join(dir, 'index.html'))) return { module: DashboardModule, controllers: [DashboardNotBuiltController] };
    return {
      module: DashboardModule,
      imports: [
        ServeStaticModule.forRoot({
          rootPath: dir,
          serveRoot: DASHBOARD_ROOT,
          serveStaticOptions: {
            index: 'index.html',
            // Bundled assets carry a hash of their content in their name; the page itself must be fetched anew.
            setHeaders: (res: Response, path: string) => {
              res.setHeader('Cache-Control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
            },
          },
        }),
      ],
    };
  }
}
