import { Injectable, Logger } from '@nestjs/common';
import { nowSeconds, TaskEvent, taskEventSubject, TaskStatus } from '@orchestrator/contracts';
import { AggregationService } from '../aggregation/aggregation.service.js';
import { AgentRouter } from '../delegation/agent-router.service.js';
import { DelegationService } from '../delegation/delegation.service.js';
import { DispatchQueue } from '../delegation/dispatch-queue.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { RootRow } from '../persistence/task-rows.js';
import { TasksRepository } from '../persistence/tasks.repository.js';
import { MessagePublisher } from '../transport/message-publisher.js';
import type { Effect } from './effects.js';
import { EngineStats } from './engine-stats.js';
import { HistoryPublisher } from './history-publisher.js';
import { RunSignal } from './concurrency/run-signal.js';
import { RevisionSignal } from './revision-signal.js';
import { ClaimSignal } from './claim-signal.js';

/**
 * Carries out what committed transitions left to do, one effect at a time: an effect that throws
 * (a message the server refuses, say) is logged and the others still run. Final responses are
 * marked sent once published.
 */
@Injectable()
export class EffectRunner {
  private readonly logger = new Logger(EffectRunner.name);

  constructor(
    private readonly delegation: DelegationService,
    private readonly router: AgentRouter,
    private readonly aggregation: AggregationService,
    private readonly publisher: MessagePublisher,
    private readonly tasks: TasksRepository,
    private readonly stats: EngineStats,
    private readonly metrics: MetricsService,
    private readonly queue: DispatchQueue,
    private readonly claims: ClaimSignal,
    private readonly revision: RevisionSignal,
    private readonly history: HistoryPublisher,
    private readonly runs: RunSignal,
  ) {}

  async run(effects: readonly Effect[]): Promise<void> {
    const finished: RootRow[] = [];
    const released: Promise<void>[] = [];
    for (const effect of effects) {
      try {
        this.runOne(effect, finished, released);
      } catch (error) {
        this.metrics.errors.inc({ dependency: 'nats' });
        this.logger.error(`${effect.kind} failed: ${(error as Error).message}`);
      }
    }
    if (released.length > 0) await Promise.all(released);
    if (finished.length > 0) {
      // Marked sent as soon as the bytes are on their way: while connected, the client writes them
      // to the socket before the UPDATE's round trip ends, and a killed process's socket still
      // delivers them. While disconnected they wait in memory, so wait until they reach the server.
      try {
        if (!this.publisher.connected) await this.publisher.flush();
        this.history.publishSent(await this.tasks.markResponsesSent(finished.map((root) => root.id)));
      } catch (error) {
        // Not marked: the sweeper sends them again.
        this.metrics.errors.inc({ dependency: 'database' });
        this.logger.warn(`marking ${finished.length} final responses sent failed: ${(error as Error).message}`);
      }
    }
  }

  private runOne(effect: Effect, finished: RootRow[], released: Promise<void>[]): void {
    switch (effect.kind) {
      case 'release':
        // The slot goes at once to the next step in the agent's lines, if one waits.
        released.push(this.router.release(effect.agent, effect.subtaskId).then((claims) => this.claims.raise(claims)));
        return;
      case 'claimed':
        this.claims.raise(effect.claims);
        return;
      case 'unqueue':
        released.push(this.queue.leave([effect]).catch((error: unknown) => this.queue.warn(`taking ${effect.member} out of line ${effect.queue}`, error)));
        return;
      case 'dispatch':
        this.stats.subtasksDispatched += 1;
        this.delegation.dispatch(effect);
        return;
      case 'cancel':
        this.delegation.cancel(effect.agent, effect.subtaskId);
        return;
      case 'progress':
        this.publisher.publish(taskEventSubject(TaskEvent.Progress), {
          task_id: effect.taskId,
          step: effect.stepKey,
          status: effect.status,
          done: effect.done,
          total: effect.total,
          ts: nowSeconds(),
        });
        return;
      case 'created':
        this.publisher.publish(taskEventSubject(TaskEvent.Created), { task_id: effect.root.task_id, task_type: effect.root.task_type, status: TaskStatus.Pending, ts: nowSeconds() });
        return;
      case 'started': {
        this.stats.workflowsStarted += 1;
        this.metrics.workflowsStarted.inc({ task_type: effect.root.task_type });
        const event = { task_id: effect.root.task_id, task_type: effect.root.task_type, status: TaskStatus.Running, ts: nowSeconds() };
        if (!effect.announced) this.publisher.publish(taskEventSubject(TaskEvent.Created), event);
        this.publisher.publish(taskEventSubject(TaskEvent.Started), event);
        return;
      }
      case 'revise':
        this.revision.raise(effect.rootId);
        return;
      case 'history':
        this.history.publish(effect.batch);
        return;
      case 'admit':
        this.runs.admit(effect.rootIds);
        return;
      case 'supersede':
        this.runs.supersede(effect.rootIds, effect.reason);
        return;
      case 'finish':
        this.stats.workflowsFinished += 1;
        this.metrics.workflowsFinished.inc({ task_type: effect.root.task_type, status: effect.root.status });
        this.aggregation.sendFinal(effect.root);
        finished.push(effect.root);
        return;
    }
  }
}
