import { AGENT_KINDS } from './agent-processes.js';
import { STEPS } from './chain.js';
import type { SdkOverhead } from './sdk-overhead.js';
import { median, type Latency, type Spread } from './stats.js';

/** What one side measured, round by round. */
export interface SideResult {
  label: string;
  short: string;
  bursts: number[];
  latencies: Latency[];
}

export const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${head.join(' | ')} |`, `| --- |${' ---: |'.repeat(head.length - 1)}`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

const burst = (r: SideResult): number => median(r.bursts);
const ofRounds = (pick: (latency: Latency) => number) => (r: SideResult): number => median(r.latencies.map(pick));

/** The measures every side has, as the median of its rounds. */
const MEASURES: readonly [string, (r: SideResult) => number, number][] = [
  ['workflows/s', burst, 0],
  ['steps/s', (r) => burst(r) * STEPS, 0],
  ['per-step overhead p50, ms', ofRounds((l) => l.perStep.p50), 2],
  ['per-step overhead p90, ms', ofRounds((l) => l.perStep.p90), 2],
  ['per-step overhead p99, ms', ofRounds((l) => l.perStep.p99), 2],
  ['submit to first step p50, ms', ofRounds((l) => l.firstStep.p50), 2],
  ['last step to done p50, ms', ofRounds((l) => l.lastStep.p50), 2],
  ['one workflow alone p50, ms', ofRounds((l) => l.workflow.p50), 2],
];

/** Every side's figures (medians of the rounds), then ours over each other side's. */
export function comparisonTable(results: readonly SideResult[], burstSize: number, extraRows: readonly [string, string][]): string {
  const [ours, ...others] = results;
  const rows = MEASURES.map(([measure, value, digits]) => [
    measure === 'workflows/s' || measure === 'steps/s' ? `burst of ${burstSize} at once, ${measure}` : measure,
    ...results.map((r) => fmt(value(r), digits)),
    ...others.map((other) => fmt(value(ours) / value(other))),
  ]);
  const dashes = Array<string>(results.length - 1 + others.length).fill('-');
  for (const [measure, value] of extraRows) rows.push([measure, value, ...dashes]);
  return markdownTable(['measure', ...results.map((r) => r.label), ...others.map((other) => `ours / ${other.short}`)], rows);
}

/** Every round of every side, and their median. */
export function roundsTable(results: readonly SideResult[]): string {
  const rounds = Math.max(...results.map((r) => r.bursts.length));
  const rows: string[][] = [];
  for (const r of results) {
    rows.push([r.short, 'workflows/s', ...r.bursts.map((b) => fmt(b, 0)), fmt(burst(r), 0)]);
    rows.push([r.short, 'per-step p50, ms', ...r.latencies.map((l) => fmt(l.perStep.p50)), fmt(ofRounds((l) => l.perStep.p50)(r))]);
    rows.push([r.short, 'per-step p99, ms', ...r.latencies.map((l) => fmt(l.perStep.p99)), fmt(ofRounds((l) => l.perStep.p99)(r))]);
  }
  return markdownTable(['side', 'measure', ...Array.from({ length: rounds }, (_, i) => `round ${i + 1}`), 'median'], rows);
}

/** The orchestrator seen from its agent's process: spreads (medians of the rounds), and the floor. */
export function outsideAgentTable(ours: SideResult, natsRoundTrip: Spread): string {
  const row = (measure: string, pick: (latency: Latency) => Spread): string[] => [
    measure,
    ...(['p50', 'p90', 'p99'] as const).map((p) => fmt(median(ours.latencies.map((l) => pick(l)[p])))),
  ];
  return markdownTable(
    ['measure (ms)', 'p50', 'p90', 'p99'],
    [
      row('per-step overhead (answer of a step to dispatch of the next)', (l) => l.perStep),
      row('submit to first dispatch', (l) => l.firstStep),
      row('last answer to final answer', (l) => l.lastStep),
      row('one workflow alone, submit to final answer', (l) => l.workflow),
      ['NATS request-reply round trip to the agent process (the floor)', fmt(natsRoundTrip.p50, 3), fmt(natsRoundTrip.p90, 3), fmt(natsRoundTrip.p99, 3)],
    ],
  );
}

const signed = (n: number | null, digits = 2): string => (n === null ? '-' : `${n >= 0 ? '+' : ''}${fmt(n, digits)}`);

export function sdkTable(rows: readonly SdkOverhead[]): string {
  return markdownTable(
    [
      'agent',
      'workflows',
      'one workflow p50, ms',
      'per sub-task, ms',
      'added per sub-task, ms',
      'straight to the agent p50, ms',
      'added straight, ms',
      'agent CPU per sub-task, µs',
      'compared with',
    ],
    rows.map((r) => [
      r.label,
      String(r.workflows),
      fmt(r.workflowP50),
      fmt(r.workflowP50 / STEPS),
      signed(r.addedPerSubtask),
      fmt(r.straightP50, 3),
      signed(r.addedStraight, 3),
      fmt(r.cpuPerSubtask, 0),
      r.baseline === null ? '-' : AGENT_KINDS[r.baseline].label,
    ]),
  );
}
