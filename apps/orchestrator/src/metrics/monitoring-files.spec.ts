import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { AppConfig } from '../config/app-config.js';
import { EngineGauges } from '../engine/engine-gauges.js';
import { ReadinessService } from '../health/readiness.service.js';
import { DurableIntakeService } from '../intake/durable-intake.service.js';
import { SubmitTaskUseCase } from '../intake/submit-task.usecase.js';
import { AgentGauges } from '../registry/agent-gauges.js';
import { MetricsService } from './metrics.service.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const SRC = join(ROOT, 'apps/orchestrator/src');
/** Metrics Prometheus makes itself for every scrape target. */
const PROMETHEUS_OWN = new Set(['up']);

/**
 * The registry a running service builds: MetricsService and the gauges its providers register
 * when the app starts. Their dependencies are only read when scraped, so none is needed here.
 */
function registeredMetrics(): Set<string> {
  const metrics = new MetricsService();
  const none = {} as never;
  new EngineGauges(metrics, none).onModuleInit();
  new AgentGauges(metrics, none, none, none).onModuleInit();
  new ReadinessService(none, none, none, none, none, none, metrics, none).onModuleInit();
  new SubmitTaskUseCase(none, none, new AppConfig(), metrics);
  new DurableIntakeService({ durable: true } as never, none, none, none, new AppConfig(), metrics);
  const names = new Set<string>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    names.add(metric.name);
    // A histogram's series.
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(metric.name + suffix);
  }
  return names;
}

/** Every source file that registers a gauge on MetricsService (a new one must be added above). */
function filesRegisteringGauges(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesRegisteringGauges(path);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.spec.ts')) return [];
    return /metrics\.(gauge|labelledGauge)\(/.test(readFileSync(path, 'utf8')) ? [relative(SRC, path)] : [];
  });
}

/** The metric names a PromQL expression selects: each name written before a `{…}` selector. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((match) => match[1] ?? '');
}

/** The PromQL of every panel of the dashboard (rows hold panels too) and its variables. */
function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/orchestrator-dashboard.json'), 'utf8')) as {
    panels: { targets?: { expr: string }[]; panels?: { targets?: { expr: string }[] }[] }[];
    templating: { list: { type: string; query?: unknown; definition?: string }[] };
  };
  const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  const variables = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => (v.definition ?? '').replace(/^label_values\((.*),\s*\w+\)$/, '$1{}'));
  return [...panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)), ...variables];
}

function alertExpressions(): { alert: string; expr: string }[] {
  const rules = parse(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((group) => group.rules);
}

describe('the Grafana dashboard and the Prometheus alert rules', () => {
  const registered = registeredMetrics();

  it('know every place the service registers gauges', () => {
    expect(filesRegisteringGauges().sort()).toEqual(
      ['engine/engine-gauges.ts', 'health/readiness.service.ts', 'intake/submit-task.usecase.ts', 'intake/durable-intake.service.ts', 'registry/agent-gauges.ts'].sort(),
    );
    expect(registered).toContain('orchestrator_workflows_in_flight');
    expect(registered).toContain('orchestrator_nodejs_eventloop_lag_p99_seconds');
  });

  it('use only metrics the service registers', () => {
    const used = [...dashboardExpressions(), ...alertExpressions().map((rule) => rule.expr)].flatMap(metricNames);
    expect(used.length).toBeGreaterThan(30);
    expect([...new Set(used)].filter((name) => !registered.has(name) && !PROMETHEUS_OWN.has(name))).toEqual([]);
  });

  it('write every metric with a selector, so that the check above sees it', () => {
    for (const expr of [...dashboardExpressions(), ...alertExpressions().map((rule) => rule.expr)]) {
      const bare = [...expr.matchAll(/\b(orchestrator_[a-z0-9_]+)\b(?!\s*\{)/g)].map((match) => match[1]);
      expect(bare, expr).toEqual([]);
    }
  });

  it('cover throughput, outcomes, latency, retries, timeouts, refused answers, overload, agents, dependencies and the event loop', () => {
    const dashboard = new Set(dashboardExpressions().flatMap(metricNames));
    for (const name of [
      'orchestrator_workflows_started_total',
      'orchestrator_workflows_finished_total',
      'orchestrator_step_duration_seconds_bucket',
      'orchestrator_step_retries_total',
      'orchestrator_step_timeouts_total',
      'orchestrator_responses_refused_total',
      'orchestrator_requests_shed_total',
      'orchestrator_agent_load_ratio',
      'orchestrator_dependency_up',
      'orchestrator_errors_total',
      'orchestrator_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(dashboard, name).toContain(name);
    }
    const alerts = alertExpressions();
    expect(alerts.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(['OrchestratorReplicaDown', 'OrchestratorNotReady', 'OrchestratorWorkflowFailureRatioHigh', 'OrchestratorStepTimeoutsRising', 'OrchestratorShedding']),
    );
  });

  it('give the dashboard a datasource variable that every query uses', () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/orchestrator-dashboard.json'), 'utf8')) as {
      templating: { list: { name: string; type: string }[] };
      panels: { type: string; datasource?: { uid: string } }[];
    };
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) expect(panel.datasource?.uid).toBe('${datasource}');
  });
});
