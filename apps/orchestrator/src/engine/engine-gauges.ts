import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { TasksRepository } from '../persistence/tasks.repository.js';

/** Gauges of work in flight, read when /metrics is scraped. */
@Injectable()
export class EngineGauges implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly tasks: TasksRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge('orchestrator_workflows_in_flight', 'Workflows running now, all replicas', () =>
      this.tasks.countRunningWorkflows().catch(() => undefined),
    );
    this.metrics.gauge(
      'orchestrator_transactions_waiting',
      'Transitions of this replica waiting for their turn at the database',
      () => this.tasks.queuedTransactions,
    );
  }
}
