import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(Redis) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The shared Redis connection. Commands fail fast while it is down instead of queueing. */
@Global()
@Module({
  providers: [
    {
      provide: Redis,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new Redis(config.REDIS_URL, {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectionName: 'orchestrator_agent',
          // The slots taken and freed by one batch of transitions go in one round trip.
          enableAutoPipelining: true,
          retryStrategy: (times) => Math.min(times * 200, 2_000),
        }),
    },
    RedisLifecycle,
  ],
  exports: [Redis],
})
export class RedisModule {}
