import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The orchestrator's Prometheus metrics (GET /metrics), one registry per process. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly workflowsStarted = new Counter({
    name: 'orchestrator_workflows_started_total',
    help: 'Workflows started, by task_type',
    labelNames: ['task_type'] as const,
    registers: [this.registry],
  });

  readonly workflowsFinished = new Counter({
    name: 'orchestrator_workflows_finished_total',
    help: 'Workflows finished, by task_type and status (COMPLETED, FAILED, CANCELLED)',
    labelNames: ['task_type', 'status'] as const,
    registers: [this.registry],
  });

  readonly stepDuration = new Histogram({
    name: 'orchestrator_step_duration_seconds',
    help: 'From dispatching a sub-task attempt to applying its answer, by agent and outcome',
    labelNames: ['agent', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: 'orchestrator_step_retries_total',
    help: 'Failed attempts that were scheduled for another attempt, by agent',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly timeouts = new Counter({
    name: 'orchestrator_step_timeouts_total',
    help: 'Attempts that passed their deadline without an answer, by agent',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly capacityWaits = new Counter({
    name: 'orchestrator_capacity_waits_total',
    help: 'Times a step waited because every candidate agent was at capacity',
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'orchestrator_queue_wait_seconds',
    help: 'How long a step waited in line for a slot on an agent, by the agent that took it',
    labelNames: ['agent'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly rateLimitWaits = new Counter({
    name: 'orchestrator_rate_limit_waits_total',
    help: 'Times a step waited because a rate limit was used up, by scope (agent: every candidate agent\'s; step: the step\'s own)',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly agentUsage = new Counter({
    name: 'orchestrator_agent_usage_total',
    help: 'What agents reported their sub-tasks cost, by agent and kind (tokens, input_tokens, output_tokens, cost)',
    labelNames: ['agent', 'kind'] as const,
    registers: [this.registry],
  });

  readonly requesterUsage = new Counter({
    name: 'orchestrator_requester_usage_total',
    help: 'What workflows requested from outside cost (their child workflows included), by requester and kind; past USAGE_METRIC_REQUESTERS_MAX requesters, "other"',
    labelNames: ['requester', 'kind'] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'orchestrator_errors_total',
    help: 'Errors talking to a dependency, by dependency (database, nats, redis)',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly responsesDropped = new Counter({
    name: 'orchestrator_responses_dropped_total',
    help: 'Late, duplicate, unknown or malformed answers dropped',
    registers: [this.registry],
  });

  readonly responsesRefused = new Counter({
    name: 'orchestrator_responses_refused_total',
    help: 'Answers refused: from another agent than the one the attempt was sent to (sender), on the reply subject of another sub-task (reply_subject), or with the inbox full (inbox_full)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly revisions = new Counter({
    name: 'orchestrator_plan_revisions_total',
    help: 'Plans revised by the planner after a step failed for good, by outcome (applied, refused)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly skippedSteps = new Counter({
    name: 'orchestrator_steps_skipped_total',
    help: 'Steps skipped because their when condition was false',
    registers: [this.registry],
  });

  readonly announcementsRefused = new Counter({
    name: 'orchestrator_announcements_refused_total',
    help: 'Agent announcements refused: malformed (invalid), or past AGENT_NAMES_MAX (names) or AGENT_INSTANCES_MAX (instances)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly retentionDeleted = new Counter({
    name: 'orchestrator_retention_deleted_total',
    help: 'Finished workflows deleted past RETENTION_DAYS (workflows), with their rows (rows) and their history (events)',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });

  readonly requestsShed = new Counter({
    name: 'orchestrator_requests_shed_total',
    help: 'Requests answered overloaded because their line was full, by line (intake, planner)',
    labelNames: ['line'] as const,
    registers: [this.registry],
  });

  readonly answersKept = new Counter({
    name: 'orchestrator_answers_kept_total',
    help: 'Answers that found the answer inbox full, kept in the JetStream stream ORCHESTRATOR_ANSWERS until it had room (durable intake)',
    registers: [this.registry],
  });

  readonly requestsRedelivered = new Counter({
    name: 'orchestrator_intake_redelivered_total',
    help: 'Requests of the intake stream taken again: a replica died holding them, or gave them back',
    registers: [this.registry],
  });

  readonly requestsGivenUp = new Counter({
    name: 'orchestrator_intake_given_up_total',
    help: 'Requests of the intake stream answered FAILED after INTAKE_MAX_DELIVER deliveries that did not take them',
    registers: [this.registry],
  });

  readonly signals = new Counter({
    name: 'orchestrator_signals_total',
    help: 'Signals for workflows, by outcome (delivered to a waiting step, kept for a step not waiting yet, duplicate, finished, no-step, invalid, unknown)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly externalEvents = new Counter({
    name: 'orchestrator_external_events_total',
    help: 'External events received, by outcome (resumed waiting steps, unmatched)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly eventMatchSeconds = new Histogram({
    name: 'orchestrator_event_match_seconds',
    help: 'Time to find the steps an external event resumes (its shapes read, the waiting steps looked up by key)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });

  readonly scheduleFires = new Counter({
    name: 'orchestrator_schedule_fires_total',
    help: 'Runs started by schedules, by schedule and kind (scheduled, trigger, backfill)',
    labelNames: ['schedule', 'kind'] as const,
    registers: [this.registry],
  });

  readonly scheduleTicksSkipped = new Counter({
    name: 'orchestrator_schedule_ticks_skipped_total',
    help: 'Ticks of schedules that started no run, by schedule and reason (overlap: the overlap policy; missed: older than the catch-up window when it came; refused: the intake refused the run)',
    labelNames: ['schedule', 'reason'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'orchestrator_' });
  }

  /** Gauges read when scraped, one series per value of `label`; `read` returns undefined when they cannot be had now. */
  labelledGauge(name: string, help: string, label: string, read: () => Promise<ReadonlyMap<string, number> | undefined>): void {
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      async collect() {
        const values = await read();
        if (values === undefined) return;
        // Series of what is gone (an agent no longer live) go with it.
        this.reset();
        for (const [key, value] of values) this.set({ [label]: key }, value);
      },
    });
  }

  /** Gauges read when scraped: `read` returns the value, or undefined when it cannot be had now. */
  gauge(name: string, help: string, read: () => Promise<number | undefined> | number | undefined): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        const value = await read();
        if (value !== undefined) this.set(value);
      },
    });
  }
}
