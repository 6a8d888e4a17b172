/**
 * npm run bench:listing: the read side and the sweeper on a table of a million rows (100,000
 * workflows of nine steps, over thirty days, a few still running). Measures GET /tasks (each filter,
 * first and deep pages) and GET /tasks/:id against a running orchestrator, and records the plans of
 * the sweeper's own queries as PostgreSQL ran them (auto_explain), into bench/LISTING.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { OrchestratorProcess } from './orchestrator-bench.js';
import { env } from './env.js';
import { percentile } from './stats.js';
import { planSummary, ROOT_FILL, searches, STEP_AGENT } from './listing-search.js';

const WORKFLOWS = Number(process.env['LISTING_WORKFLOWS'] ?? '100000');
const STEPS = 9;
const REQUESTS = Number(process.env['LISTING_REQUESTS'] ?? '300');
const TYPES = ['create_blog_post', 'summarize', 'translate', 'review', 'publish'];

const databaseUrl = env('DATABASE_URL', 'npm run bench:listing');
const pgLog = env('PG_LOG_FILE', 'npm run bench:listing');
const port = Number(process.env['BENCH_PORT'] ?? '3901');
if (!/_(bench|test)$/.test(new URL(databaseUrl).pathname)) throw new Error('refusing to wipe a database whose name does not end in _bench or _test');

/** 100,000 workflows over the last thirty days, newest running; each with nine steps. */
async function fill(db: pg.Client): Promise<void> {
  await db.query('TRUNCATE tasks');
  const plan = JSON.stringify({
    task_type: 'filled',
    version: 1,
    revision: 1,
    steps: Array.from({ length: STEPS }, (_, i) => ({ id: `s${i}`, agent: 'a', task_type: 't', depends_on: i === 0 ? [] : [`s${i - 1}`] })),
  });
  await db.query(
    `INSERT INTO tasks (id, task_id, parent_id, root_id, task_type, status, priority, payload, result, requester_id, plan,
                        created_at, updated_at, started_at, completed_at, response_sent_at, request_hash, error)
     SELECT id, 'filled-' || n, NULL, id, ($3::text[])[1 + n % 5],
            CASE WHEN n > $1 - 500 THEN 'RUNNING' WHEN n % 20 = 0 THEN 'FAILED' ELSE 'COMPLETED' END,
            'NORMAL', ${ROOT_FILL.payload}, CASE WHEN n > $1 - 500 THEN NULL ELSE '{"output":{"ok":true}}'::jsonb END, ${ROOT_FILL.requester}, $2::jsonb,
            at, at, at, CASE WHEN n > $1 - 500 THEN NULL ELSE at + interval '1 minute' END,
            CASE WHEN n > $1 - 500 THEN NULL ELSE at + interval '1 minute' END, 'h', CASE WHEN n > $1 - 500 THEN NULL ELSE ${ROOT_FILL.error} END
       FROM (SELECT n, gen_random_uuid() AS id, now() - (($1 - n) * interval '30 days' / $1) AS at FROM generate_series(1, $1) AS n) AS w`,
    [WORKFLOWS, plan, TYPES],
  );
  await db.query(
    `INSERT INTO tasks (id, task_id, parent_id, root_id, task_type, step_key, agent_name, status, attempts, max_attempts, payload, result,
                        next_attempt_at, deadline_at, created_at, updated_at, started_at, completed_at)
     SELECT id, id::text, root, root, 't', 's' || i, agent,
            CASE WHEN running AND i = 3 THEN 'RUNNING' WHEN running AND i > 3 THEN 'PENDING' ELSE 'COMPLETED' END,
            1, 3, '{"x":1}', CASE WHEN running AND i >= 3 THEN NULL ELSE '{"y":2}'::jsonb END,
            NULL, CASE WHEN running AND i = 3 THEN now() + interval '1 hour' END,
            at, at, at, CASE WHEN running AND i >= 3 THEN NULL ELSE at END
       FROM (SELECT gen_random_uuid() AS id, r.id AS root, r.status = 'RUNNING' AS running, r.created_at AS at, i, ${STEP_AGENT} AS agent
               FROM tasks AS r CROSS JOIN generate_series(0, $1 - 1) AS i WHERE r.parent_id IS NULL) AS s`,
    [STEPS],
  );
  await db.query('VACUUM ANALYZE tasks');
}

async function timeRequests(label: string, paths: () => string, count: number, base: string): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await fetch(`${base}${paths()}`);
    if (!res.ok) throw new Error(`${label}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    times.push(performance.now() - started);
  }
  return `| ${label} | ${count} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} |`;
}

/** The cursors of the first `pages` pages of a listing, to time deep pages. */
async function cursors(base: string, query: string, pages: number): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | null = null;
  while (found.length < pages) {
    const res = await fetch(`${base}/tasks?${query}&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    cursor = ((await res.json()) as { next_cursor: string | null }).next_cursor;
    if (!cursor) break;
    found.push(cursor);
  }
  return found;
}

/** The slowest plan auto_explain logged for statements whose text contains every marker, by title. */
function slowestPlans(log: string, markers: Record<string, string | string[]>): Map<string, { runs: number; ms: number; text: string } | null> {
  const entries = log.split(/\n(?=\S.*LOG: {2}duration: )/).filter((entry) => entry.includes('Query Text:'));
  const duration = (entry: string): number => Number(/duration: ([\d.]+) ms/.exec(entry)?.[1] ?? 0);
  return new Map(
    Object.entries(markers).map(([title, marker]) => {
      const matching = entries.filter((entry) => (Array.isArray(marker) ? marker : [marker]).every((part) => entry.includes(part)));
      if (matching.length === 0) return [title, null];
      const slowest = matching.reduce((a, b) => (duration(b) > duration(a) ? b : a));
      return [title, { runs: matching.length, ms: duration(slowest), text: slowest.slice(slowest.indexOf('Query Text:')).trim() }];
    }),
  );
}

/** The plans auto_explain logged for statements whose text contains `marker`, the slowest of each, as sections. */
function loggedPlans(log: string, markers: Record<string, string>): string[] {
  return [...slowestPlans(log, markers)].map(([title, plan]) =>
    plan === null ? `### ${title}\n\n(not run during the window)\n` : `### ${title}\n\n${plan.runs} runs, slowest ${plan.ms.toFixed(3)} ms:\n\n\`\`\`\n${plan.text}\n\`\`\`\n`,
  );
}

/** Runs `work` with every statement of new sessions planned and logged (auto_explain), then stops logging. */
async function explained(db: pg.Client, work: () => Promise<void>): Promise<string> {
  const database = new URL(databaseUrl).pathname.slice(1);
  const logStart = readFileSync(pgLog, 'utf8').length;
  await db.query(`ALTER DATABASE ${database} SET auto_explain.log_min_duration = 0`);
  try {
    await work();
  } finally {
    await db.query(`ALTER DATABASE ${database} RESET auto_explain.log_min_duration`);
  }
  return readFileSync(pgLog, 'utf8').slice(logStart);
}

async function main(): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const filling = performance.now();
  await fill(db);
  const [{ rows, size }] = (
    await db.query<{ rows: string; size: string }>(`SELECT count(*)::text AS rows, pg_size_pretty(pg_total_relation_size('tasks')) AS size FROM tasks`)
  ).rows;
  console.log(`filled ${rows} rows (${size}) in ${((performance.now() - filling) / 1000).toFixed(0)} s`);

  // Retention past the oldest row for the one serving requests; the sweeper's window deletes the oldest few.
  const orchestrator = await OrchestratorProcess.start(port, { RETENTION_DAYS: '40' });
  const base = orchestrator.baseUrl;
  const lines: string[] = [];
  try {
    // The sweeper's passes, their plans logged while nothing else runs.
    const sweeperLog = await explained(db, async () => {
      const sweeper = await OrchestratorProcess.start(port + 1, { RETENTION_DAYS: '29.98', RETENTION_INTERVAL_MS: '1000', SWEEP_INTERVAL_MS: '500' });
      await sleep(6_000);
      await sweeper.stop();
    });
    const plans = loggedPlans(sweeperLog, {
      'due steps, deadlines, revisions (findDue)': "status = 'PENDING' AND next_attempt_at IS NOT NULL",
      'unsent final responses': 'response_sent_at IS NULL AND completed_at <=',
      'retention (deleteFinished)': 'DELETE FROM tasks AS t USING doomed',
    });

    const ids = (await db.query<{ task_id: string }>(`SELECT task_id FROM tasks WHERE parent_id IS NULL ORDER BY random() LIMIT $1`, [REQUESTS])).rows.map((r) => r.task_id);
    const deep = await cursors(base, 'status=COMPLETED', 200);
    const deepTyped = await cursors(base, 'task_type=summarize', 150);
    const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)];
    lines.push(
      '| request | count | p50 ms | p99 ms |',
      '| --- | --- | --- | --- |',
      await timeRequests('GET /tasks (first page, 20)', () => '/tasks', REQUESTS, base),
      await timeRequests('GET /tasks?limit=100', () => '/tasks?limit=100', REQUESTS, base),
      await timeRequests('GET /tasks?status=FAILED', () => '/tasks?status=FAILED', REQUESTS, base),
      await timeRequests('GET /tasks?task_type=review', () => '/tasks?task_type=review', REQUESTS, base),
      await timeRequests('GET /tasks?status=RUNNING&task_type=publish', () => '/tasks?status=RUNNING&task_type=publish', REQUESTS, base),
      await timeRequests(`GET /tasks?status=COMPLETED&cursor=… (pages 1–${deep.length}, 100 a page)`, () => `/tasks?status=COMPLETED&limit=100&cursor=${pick(deep)}`, REQUESTS, base),
      await timeRequests(`GET /tasks?task_type=summarize&cursor=… (pages 1–${deepTyped.length}, 100 a page)`, () => `/tasks?task_type=summarize&limit=100&cursor=${pick(deepTyped)}`, REQUESTS, base),
      await timeRequests('GET /tasks/:id (random, nine steps)', () => `/tasks/${pick(ids)}`, REQUESTS, base),
      await timeRequests('GET /tasks?count=true (counts every root)', () => '/tasks?count=true', 20, base),
    );

    // Each search: its plan as PostgreSQL ran it (a replica of its own, three times, the slowest kept), then timed on the main one.
    const found = searches();
    const searchLog = await explained(db, async () => {
      const explainer = await OrchestratorProcess.start(port + 2, { RETENTION_DAYS: '40' });
      for (const search of found) for (let i = 0; i < 3; i++) await fetch(`${explainer.baseUrl}/tasks?${search.query}`).then((res) => res.arrayBuffer());
      await explainer.stop();
    });
    const searchPlans = slowestPlans(searchLog, Object.fromEntries(found.map((search) => [search.label, search.markers])));
    const searchLines = [
      '| search (first page, 20) | count | p50 ms | p99 ms | in PostgreSQL, ms (slowest of 3) | indexes in its plan |',
      '| --- | --- | --- | --- | --- | --- |',
    ];
    for (const search of found) {
      const timed = await timeRequests(`\`GET /tasks?${search.label}\``, () => `/tasks?${search.query}`, REQUESTS, base);
      const plan = searchPlans.get(search.label);
      searchLines.push(`${timed} ${plan ? `${plan.ms.toFixed(2)} | ${planSummary(plan.text)}` : '- | (no plan logged)'} |`);
    }
    const searchDetails = found.map((search) => {
      const plan = searchPlans.get(search.label);
      return `### ${search.label}\n\n\`GET /tasks?${search.query}\`${plan ? `, slowest of ${plan.runs}: ${plan.ms.toFixed(3)} ms\n\n\`\`\`\n${plan.text}\n\`\`\`` : ': no plan logged'}\n`;
    });
    const report = [
      '# Listing and sweeper on a million rows',
      '',
      `\`npm run bench:listing\`, ${new Date().toISOString().slice(0, 10)}: ${rows} rows (${WORKFLOWS} workflows of ${STEPS} steps over 30 days, the newest 500 running), ${size} with indexes; one client, requests one after another.`,
      '',
      ...lines,
      '',
      '## Searches',
      '',
      'Requesters: 1,000; customers (`payload.customer`): 5,000; each workflow has steps on agent_0 … agent_8, one in 1,000 a step on rare_agent; one workflow in 20 failed, with four kinds of error.',
      '',
      ...searchLines,
      '',
      '## The sweeper\'s queries, as PostgreSQL ran them (auto_explain, ANALYZE, BUFFERS)',
      '',
      ...plans,
      '',
      '## The searches\' plans, as PostgreSQL ran them (auto_explain, ANALYZE, BUFFERS)',
      '',
      ...searchDetails,
    ].join('\n');
    writeFileSync(join(new URL('..', import.meta.url).pathname, 'LISTING.md'), `${report}\n`);
    console.log(report);
  } finally {
    await orchestrator.stop();
    await db.end();
  }
}

await main();
