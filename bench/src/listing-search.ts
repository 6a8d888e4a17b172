/**
 * The searches of GET /tasks that `npm run bench:listing` times on its million rows, and the
 * plans PostgreSQL chose for them. The fill gives them something to find: a thousand
 * requesters, five thousand customers, nine agents and a rare one, four kinds of error.
 */

/** A search, and the text of its query (and its values as the plan shows them) that tells its plan apart in the log. */
export interface Search {
  label: string;
  query: string;
  markers: string[];
}

const DAY_MS = 86_400_000;
const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

export function searches(): Search[] {
  // The whole of each query's conditions, to the end of their line: no search's plan is taken for another's.
  const where = (...conditions: string[]): string[] => [`FROM tasks WHERE ${['parent_id IS NULL', ...conditions].join(' AND ')}\n`];
  const agent = (n: number): string => `EXISTS (SELECT 1 FROM tasks AS s WHERE s.agent_name = $${n} AND s.root_id = tasks.id AND s.parent_id IS NOT NULL)`;
  return [
    { label: 'status=failed (any case)', query: 'status=failed', markers: where('status = $1') },
    { label: 'requester_id=req-7', query: 'requester_id=req-7', markers: where('requester_id = $1') },
    { label: 'agent=agent_3 (a step of every workflow)', query: 'agent=agent_3', markers: [...where(agent(1)), "'agent_3'"] },
    { label: 'agent=rare_agent (one workflow in 1,000)', query: 'agent=rare_agent', markers: [...where(agent(1)), "'rare_agent'"] },
    { label: 'error=quota exceeded (a quarter of the failures)', query: 'error=quota%20exceeded', markers: [...where('error IS NOT NULL AND error ILIKE $1'), '%quota exceeded%'] },
    { label: 'error=host-42 (1 failure in 400)', query: 'error=host-42', markers: [...where('error IS NOT NULL AND error ILIKE $1'), '%host-42%'] },
    { label: 'payload.customer=4242 (20 workflows)', query: 'payload.customer=4242', markers: where('(payload @> $1::jsonb OR payload @> $2::jsonb)') },
    {
      label: 'created in one day, 14 days ago',
      query: `created_after=${ago(15 * DAY_MS)}&created_before=${ago(14 * DAY_MS)}`,
      markers: where('created_at >= $1', 'created_at < $2'),
    },
    {
      label: 'finished in one hour, 3 days ago',
      query: `finished_after=${ago(3 * DAY_MS + 3_600_000)}&finished_before=${ago(3 * DAY_MS)}`,
      markers: where('completed_at >= $1', 'completed_at < $2'),
    },
    {
      label: 'status=failed&agent=agent_2&created in the last 7 days',
      query: `status=failed&agent=agent_2&created_after=${ago(7 * DAY_MS)}`,
      markers: where('status = $1', 'created_at >= $2', agent(3)),
    },
    {
      label: 'requester_id=req-7&payload.customer=7',
      query: 'requester_id=req-7&payload.customer=7',
      markers: where('requester_id = $1', '(payload @> $2::jsonb OR payload @> $3::jsonb)'),
    },
  ];
}

/** The SQL of the fill's roots: who asked, for which customer, and what failed. */
export const ROOT_FILL = {
  requester: `'req-' || (n % 1000)`,
  payload: `jsonb_build_object('topic', 'filled', 'customer', n % 5000)`,
  error: `CASE WHEN n % 20 = 0 THEN 'step "s' || (n % 9) || '" (agent agent_' || (n % 9) || ') failed after 3 attempts: ' ||
            CASE (n / 20) % 4 WHEN 0 THEN 'timed out after 30000 ms' WHEN 1 THEN 'connection refused by host-' || ((n / 80) % 100)
                              WHEN 2 THEN 'quota exceeded for customer ' || (n % 5000) ELSE 'invalid output: title is missing' END END`,
};

/** The SQL of a step's agent: agent_<i>, and in one workflow of 1,000 a rare agent for step 4. */
export const STEP_AGENT = `CASE WHEN i = 4 AND split_part(r.task_id, '-', 2)::int % 1000 = 0 THEN 'rare_agent' ELSE 'agent_' || i END`;

/** The indexes a logged plan used, and its actual time, from its text. */
export function planSummary(plan: string): string {
  const indexes = [...new Set([...plan.matchAll(/(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) "?(\w+)"?/g)].map((m) => m[1]))];
  const seq = /Seq Scan on tasks/.test(plan) ? ' and a sequential scan' : '';
  return indexes.length > 0 ? `${indexes.map((name) => `\`${name}\``).join(', ')}${seq}` : seq ? 'a sequential scan' : '(none)';
}
