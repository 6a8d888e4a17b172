import { hostname } from 'node:os';
import { Global, Module } from '@nestjs/common';
import { ORCHESTRATOR_AGENT_NAME } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { IntakeStream } from './intake-stream.js';
import { MessagePublisher } from './message-publisher.js';
import { NatsClient } from './nats-client.js';
import { natsConnectionOptions } from './nats-options.js';

@Global()
@Module({
  providers: [
    {
      provide: NatsClient,
      inject: [AppConfig, MetricsService],
      useFactory: (config: AppConfig, metrics: MetricsService) => {
        const replicaId = (config.INSTANCE_ID ?? `${hostname()}-${process.pid}`).toLowerCase().replace(/[^a-z0-9_-]/g, '-');
        return NatsClient.connect(natsConnectionOptions(config, `${ORCHESTRATOR_AGENT_NAME}-${replicaId}`), replicaId, () =>
          metrics.errors.inc({ dependency: 'nats' }),
        );
      },
    },
    { provide: MessagePublisher, useExisting: NatsClient },
    // Decided before the NATS subscriptions start, so that the first request is taken the right way.
    { provide: IntakeStream, inject: [NatsClient, AppConfig], useFactory: (nats: NatsClient, config: AppConfig) => IntakeStream.open(nats.connection, config) },
  ],
  exports: [NatsClient, MessagePublisher, IntakeStream],
})
export class NatsModule {}
