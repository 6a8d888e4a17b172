import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';
import { DispatchQueue } from './dispatch-queue.service.js';

/** The fairness keys of a line that get a series of their own: the rest are summed as `(other)`. */
const TOP_KEYS = 20;

/** Gauges of the lines of steps waiting for agents, read from Redis when /metrics is scraped. */
@Injectable()
export class QueueGauges implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly queue: DispatchQueue,
  ) {}

  onModuleInit(): void {
    const queue = this.queue;
    let snapshot: { at: number; depths: ReturnType<DispatchQueue['depths']> } | undefined;
    const depths = (): ReturnType<DispatchQueue['depths']> => {
      if (!snapshot || Date.now() - snapshot.at > 1_000) snapshot = { at: Date.now(), depths: queue.depths(TOP_KEYS).catch(() => []) };
      return snapshot.depths;
    };
    new Gauge({
      name: 'orchestrator_queue_depth',
      help: 'Steps waiting in line for a slot, by line (a:<agents> for named agents, c:<capability>), all replicas',
      labelNames: ['queue'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const line of await depths()) this.set({ queue: line.queue }, line.waiting);
      },
    });
    new Gauge({
      name: 'orchestrator_queue_depth_by_key',
      help: `Steps waiting in line for a slot, by line and fairness key (the ${TOP_KEYS} largest keys of each line; the others as (other))`,
      labelNames: ['queue', 'fairness_key'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const line of await depths()) {
          let shown = 0;
          for (const key of line.keys) {
            this.set({ queue: line.queue, fairness_key: key.key }, key.waiting);
            shown += key.waiting;
          }
          if (line.waiting > shown) this.set({ queue: line.queue, fairness_key: '(other)' }, line.waiting - shown);
        }
      },
    });
  }
}
