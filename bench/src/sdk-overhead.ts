import { headers, type NatsConnection } from '@nats-io/transport-node';
import { agentTaskSubject, ORCHESTRATOR_AGENT_NAME } from '@orchestrator/contracts';
import { AGENT_KINDS, type AgentKind } from './agent-processes.js';
import type { ControlledChild } from './child-process.js';
import { OrchestratorSide } from './orchestrator-bench.js';
import { measureLatency } from './side.js';
import { BLOG_POST_AGENTS } from './blog-post-agents.js';
import { STEPS } from './chain.js';
import { median } from './stats.js';

/** What an agent written one way costs per sub-task, against the plain agent it is compared with. */
export interface SdkOverhead {
  kind: AgentKind;
  label: string;
  /** The kind it is compared with: the plain agent on the same NATS client (plain Python: plain Node). */
  baseline: AgentKind | null;
  workflows: number;
  /** Median over every workflow of every round, client-seen, ms. */
  workflowP50: number;
  /**
   * The median over the rounds of (this kind's median workflow - the baseline's, in the same round)
   * / STEPS, ms: each round's pair ran minutes apart at most, so a change in the machine's load
   * between rounds does not fall on one kind only.
   */
  addedPerSubtask: number | null;
  /** A sub-task sent straight to the agent (no orchestrator), request to answer, median ms. */
  straightP50: number;
  /** straightP50 - the baseline's, ms. */
  addedStraight: number | null;
  /** CPU time of the agents' process per sub-task, µs (median of the rounds). */
  cpuPerSubtask: number;
  /** The median workflow of each round, ms. */
  rounds: number[];
}

const BASELINES: Record<AgentKind, AgentKind | null> = { plainNode: null, sdkNode: 'plainNode', plainPython: 'plainNode', sdkPython: 'plainPython' };

/**
 * Sub-tasks sent straight to the first agent, as the orchestrator sends them (body and headers),
 * one at a time: what the agent alone adds to a request-reply round trip, ms each.
 */
async function straightToTheAgent(nc: NatsConnection, agent: string, taskType: string, runs: number, run: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const taskId = `${run}-${i}:1`;
    const h = headers();
    h.set('Orchestrator-Root-Task-Id', run);
    h.set('Orchestrator-Step', 'draft');
    h.set('Orchestrator-Attempt', '1');
    const body = JSON.stringify({
      task_id: taskId,
      task_type: taskType,
      payload: { topic: 'bench', audience: 'general readers', tone: 'informative' },
      priority: 'NORMAL',
      requester_id: ORCHESTRATOR_AGENT_NAME,
      created_at: Date.now() / 1000,
    });
    const started = performance.now();
    await nc.request(agentTaskSubject(agent), body, { timeout: 10_000, headers: h });
    times.push(performance.now() - started);
  }
  return times;
}

interface Usage {
  cpuMicros: number;
  handled: number;
}

/**
 * The same five-step chain, one workflow at a time against one orchestrator, answered by agents
 * written each way in turn. The kinds take turns within every round (their order rotating from
 * round to round), so that a change in the machine's load falls on all of them alike.
 */
export async function measureSdkOverhead(
  nc: NatsConnection,
  agents: ReadonlyMap<AgentKind, ControlledChild>,
  sizes: { rounds: number; runs: number; warmup: number },
  log: (line: string) => void,
): Promise<SdkOverhead[]> {
  const kinds = [...agents.keys()];
  const samples = new Map<AgentKind, number[]>(kinds.map((kind) => [kind, []]));
  const cpu = new Map<AgentKind, number[]>(kinds.map((kind) => [kind, []]));
  const rounds = new Map<AgentKind, number[]>(kinds.map((kind) => [kind, []]));
  const straight = new Map<AgentKind, number[]>(kinds.map((kind) => [kind, []]));
  const [first] = BLOG_POST_AGENTS;
  for (let round = 1; round <= sizes.rounds; round++) {
    const order = kinds.map((_, i) => kinds[(i + round - 1) % kinds.length]);
    const line: string[] = [];
    for (const kind of order) {
      const child = agents.get(kind)!;
      const side = new OrchestratorSide(AGENT_KINDS[kind].label, kind, nc, child);
      await side.activate();
      await measureLatency(side, sizes.warmup, `sdk${round}-${kind}-warm`);
      const before = await child.call<Usage>('usage');
      const latency = await measureLatency(side, sizes.runs, `sdk${round}-${kind}`);
      const after = await child.call<Usage>('usage');
      straight.get(kind)!.push(...(await straightToTheAgent(nc, first.name, first.taskType, sizes.runs * STEPS, `sdk${round}-${kind}-s`)));
      await side.deactivate();
      samples.get(kind)!.push(...latency.workflowTimes);
      rounds.get(kind)!.push(latency.workflow.p50);
      cpu.get(kind)!.push((after.cpuMicros - before.cpuMicros) / Math.max(1, after.handled - before.handled));
      line.push(`${kind} ${latency.workflow.p50.toFixed(2)} ms`);
    }
    log(`  round ${round}: ${line.join(', ')} (median workflow)`);
  }
  const p50 = new Map(kinds.map((kind) => [kind, median(samples.get(kind)!)]));
  const straightP50 = new Map(kinds.map((kind) => [kind, median(straight.get(kind)!)]));
  return kinds.map((kind) => {
    const baseline = BASELINES[kind] !== null && agents.has(BASELINES[kind]) ? BASELINES[kind] : null;
    const workflowP50 = p50.get(kind)!;
    return {
      kind,
      label: AGENT_KINDS[kind].label,
      baseline,
      workflows: samples.get(kind)!.length,
      workflowP50,
      addedPerSubtask: baseline === null ? null : median(pairedDifferences(rounds.get(kind)!, rounds.get(baseline)!)) / STEPS,
      straightP50: straightP50.get(kind)!,
      addedStraight: baseline === null ? null : straightP50.get(kind)! - straightP50.get(baseline)!,
      cpuPerSubtask: median(cpu.get(kind)!),
      rounds: rounds.get(kind)!,
    };
  });
}

function pairedDifferences(values: readonly number[], baseline: readonly number[]): number[] {
  return values.map((value, round) => value - baseline[round]);
}
