// Submits one create_blog_post task the way any NATS client would (plain JSON request/reply)
// and prints the raw TaskResponse. Usage: node scripts/submit-example.mjs [--research] ["topic"]
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';

const USAGE = `usage: node scripts/submit-example.mjs [--research] ["a topic"]
  Submits a create_blog_post task (with --research a research_report, which the planner agent
  plans at run time) over NATS and prints its TaskResponse.
  NATS_URL  the NATS to use (default nats://127.0.0.1:14222, the demo's)`;

let args;
try {
  args = parseArgs({ options: { research: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
} catch (error) {
  console.error(`${error.message}\n${USAGE}`);
  process.exit(2);
}
if (args.values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.positionals.length > 1) {
  console.error(`one topic, in quotes when it has spaces (got ${args.positionals.length} words)\n${USAGE}`);
  process.exit(2);
}
const research = args.values.research === true;
const topic = args.positionals[0] ?? 'How orchestration works';
// The demo's NATS (scripts/infra.sh); the compose stack publishes NATS on 4222.
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:14222';
const port = process.env.PORT ?? '3000';
const taskId = `${research ? 'research' : 'blog'}-${Date.now().toString(36)}`;
const request = {
  task_id: taskId,
  task_type: research ? 'research_report' : 'create_blog_post',
  payload: { topic },
  priority: 'NORMAL',
  requester_id: 'demo_cli',
  created_at: Date.now() / 1000,
};

const nc = await connect({ servers: natsUrl, name: 'demo-cli' });
console.log(`> agent.orchestrator_agent.task ${JSON.stringify(request)}`);
const started = Date.now();
try {
  const reply = await nc.request('agent.orchestrator_agent.task', JSON.stringify(request), { timeout: 60_000 });
  const response = reply.json();
  const file = process.env.RESPONSE_FILE;
  if (file) (await import('node:fs')).writeFileSync(file, JSON.stringify(response, null, 2));
  // The whole response holds every step's result; show its shape and the workflow's output.
  const steps = response.result?.steps ?? {};
  const output = response.result?.output;
  const brief = {
    ...response,
    result: response.result && {
      output:
        typeof output?.content === 'string' && output.content.length > 300
          ? { ...output, content: `${output.content.slice(0, 300)}…` }
          : output,
      steps: Object.fromEntries(Object.entries(steps).map(([id, r]) => [id, `{ ${Object.keys(r ?? {}).join(', ')} }`])),
    },
  };
  console.log(`< TaskResponse after ${Date.now() - started} ms${file ? ` (in full: ${file})` : ''}:`);
  console.log(JSON.stringify(brief, null, 2));
  console.log(`\nThe workflow, step by step:  curl http://127.0.0.1:${port}/tasks/${taskId}`);
  if (response.result?.output?.location) console.log(`The published post:          ${response.result.output.location}`);
  process.exitCode = response.status === 'COMPLETED' ? 0 : 1;
} finally {
  await nc.close();
}
