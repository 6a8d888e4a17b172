import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import helmet from 'helmet';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ORCHESTRATOR_AGENT_NAME, ORCHESTRATOR_QUEUE_GROUP } from '@orchestrator/contracts';
import { AppModule } from './app.module.js';
import { AppConfig } from './config/app-config.js';
import { AllExceptionsFilter } from './http/all-exceptions.filter.js';
import { setUpOpenApi } from './http/openapi.js';
import { PinoLogger } from './logging/pino-logger.js';
import { exposureWarning } from './security/exposure.js';
import { MessagePublisher } from './transport/message-publisher.js';
import { natsConnectionOptions } from './transport/nats-options.js';
import { RawJsonNatsServer } from './transport/raw-json-nats.server.js';

/** Builds and starts the hybrid app (HTTP + NATS microservice) exactly as `main.ts` runs it. */
export async function bootstrap(): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bufferLogs: true });
  const config = app.get(AppConfig);
  app.useLogger(new PinoLogger(config.LOG_LEVEL, app.get(MessagePublisher).replicaId));
  // Security headers on every response (CSP, nosniff, frame and referrer policies): the dashboard and /docs are pages.
  // Requests are not upgraded to https: the API is often served over plain HTTP behind a proxy that terminates TLS.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.useBodyParser('json', { limit: config.MAX_MESSAGE_BYTES });
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();
  setUpOpenApi(app, config.API_KEY);
  app.connectMicroservice(
    {
      strategy: new RawJsonNatsServer(
        { ...natsConnectionOptions(config, `${ORCHESTRATOR_AGENT_NAME}-intake`), queue: ORCHESTRATOR_QUEUE_GROUP },
        config.MAX_MESSAGE_BYTES,
        config.NATS_INBOX_PREFIX,
      ),
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  const warning = exposureWarning(config);
  if (warning) new Logger('Security').warn(warning);
  return app;
}
