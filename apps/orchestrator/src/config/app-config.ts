import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync, type ValidationError } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { isAgentName, isPlainObject, RATE_LIMIT_BOUNDS, TASK_TYPE_PATTERN, type RateLimit, type RatePeriod } from '@orchestrator/contracts';

/**
 * Every environment variable the orchestrator reads, validated once at boot.
 * Nothing else reads `process.env`; inject `AppConfig` instead.
 */
export class AppConfig {
  @IsString()
  NATS_URL: string = 'nats://127.0.0.1:4222';

  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL!: string;

  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL: string = 'redis://127.0.0.1:6379';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsString()
  WORKFLOWS_DIR: string = 'workflows';

  /** Event streams (Server-Sent Events) a replica serves at once; one more is answered 503 with Retry-After. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  EVENT_STREAMS_MAX: number = 1_000;

  /** The address the HTTP API listens on: every interface by default (containers); without API_KEY the service warns at start unless it is a loopback address. */
  @IsString()
  HOST: string = '0.0.0.0';

  /** Reload the workflow files when they change (fs.watch on WORKFLOWS_DIR). */
  @IsIn(['true', 'false'])
  WORKFLOWS_WATCH: 'true' | 'false' = 'true';

  /** How often every replica compares the hash of its workflow files with what it loaded, and reloads when they differ; 0: never. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  WORKFLOWS_CHECK_INTERVAL_MS: number = 30_000;

  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  /** Largest TaskRequest accepted, in bytes of JSON (NATS message or HTTP body). */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  MAX_MESSAGE_BYTES: number = 1_048_576;

  /** How deeply objects and arrays may nest in a request's payload or an agent's result; deeper ones are refused where they arrive. */
  @Type(() => Number)
  @IsInt()
  @Min(8)
  @Max(1_000)
  MAX_JSON_DEPTH: number = 64;

  /** An agent instance that has not announced itself for this long counts as gone. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  AGENT_HEARTBEAT_TTL_MS: number = 15_000;

  /**
   * Agent names and instances the registry holds at most, so that a client announcing made-up
   * agents in a loop cannot grow what every routing decision reads: a new one past either gets in
   * and the stalest goes (counted in orchestrator_agent_instances_evicted_total).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  AGENT_NAMES_MAX: number = 1_000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  AGENT_INSTANCES_MAX: number = 10_000;

  /** Instances of one agent name the registry holds at most: a newer one replaces its name's stalest. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  AGENT_INSTANCES_PER_NAME_MAX: number = 100;

  /** The most sub-tasks an instance may say it runs at once (`load.max_concurrency`); more is taken as this many. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  AGENT_MAX_CONCURRENCY: number = 1_000;

  /**
   * `on`: announcements on the shared subjects (platform.events.agent_registered, agent_heartbeat)
   * are taken too, under whatever name they carry: trusting, for agents without NATS
   * authentication. `off`: only on each agent's own subjects (platform.events.agent.<name>.*).
   */
  @IsIn(['on', 'off'])
  AGENT_SHARED_ANNOUNCEMENTS: 'on' | 'off' = 'on';

  /** Deadline of a dispatched step when its workflow does not set one. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  DEFAULT_STEP_TIMEOUT_MS: number = 60_000;

  /** Attempts of a step when its workflow does not set them. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  DEFAULT_MAX_ATTEMPTS: number = 3;

  /** How often the sweeper looks for due retries and passed deadlines. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  SWEEP_INTERVAL_MS: number = 500;

  /**
   * How long a slot popped for a waiting step is held for it before it frees itself, should the
   * replica that popped it die before dispatching it.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  DISPATCH_CLAIM_LEASE_MS: number = 30_000;

  /** How often a replica puts back in their lines the steps that have waited that long, should Redis have lost them. */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  QUEUE_RESTORE_INTERVAL_MS: number = 10_000;

  /** Finished workflows older than this many days are deleted with their steps; 0 keeps them all. */
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  RETENTION_DAYS: number = 7;

  /** How often a replica looks for workflows past retention (a backlog is deleted in batches of RETENTION_BATCH, pass after pass). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  RETENTION_INTERVAL_MS: number = 60_000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  RETENTION_BATCH: number = 200;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE: number = 10;

  /**
   * Agents that never announce themselves, always considered live, as JSON:
   * `[{"name": "py_agent", "capabilities": ["summarize"], "max_concurrency": 8}]`.
   */
  @IsOptional()
  @IsString()
  STATIC_AGENTS?: string;

  /** Consul agent's HTTP API, e.g. http://127.0.0.1:8500. Consul support is off when unset. */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  CONSUL_URL?: string;

  /** The address Consul's health check uses to reach this replica. */
  @IsString()
  CONSUL_SERVICE_ADDRESS: string = '127.0.0.1';

  /** An ACL token for Consul (sent as X-Consul-Token), when its ACLs are on. */
  @IsOptional()
  @IsString()
  CONSUL_TOKEN?: string;

  /** The agent asked for a plan when no workflow file describes a task_type; empty turns dynamic planning off. */
  @IsString()
  PLANNER_AGENT: string = 'llm_agent';

  @IsString()
  PLANNER_TASK_TYPE: string = 'plan_task';

  @Type(() => Number)
  @IsInt()
  @Min(100)
  PLANNER_TIMEOUT_MS: number = 10_000;

  /** How many times an invalid plan is asked again, with its errors. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(5)
  PLANNER_RETRIES: number = 1;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  PLAN_MAX_STEPS: number = 50;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  PLAN_MAX_DEPTH: number = 10;

  /** How deep workflows may run one another (`workflow:` steps): 1 is a workflow alone, 2 one that runs another, and so on. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  MAX_WORKFLOW_DEPTH: number = 5;

  /** Requests being stored at once, and how many may wait (and how many bytes of them) before more are answered `overloaded`. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  INTAKE_CONCURRENCY: number = 64;

  /**
   * Under durable intake, how long a request taken from the stream waits for its reply subject to
   * be noted when it was not yet (the stream's copy handled before the request itself): a request
   * published without a reply subject waits this long before it is taken. 0: no wait.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000)
  INTAKE_REPLY_WAIT_MS: number = 250;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  INTAKE_QUEUE_MAX: number = 10_000;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  INTAKE_QUEUE_MAX_BYTES: number = 64 * 1024 * 1024;

  /**
   * Agents' answers being applied at once, and how many more may wait (and how many bytes of them);
   * past that an answer is dropped and counted (`orchestrator_responses_refused_total{reason="inbox_full"}`):
   * its attempt times out and is retried.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  ANSWER_INBOX_CONCURRENCY: number = 2_000;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  ANSWER_INBOX_MAX: number = 20_000;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  ANSWER_INBOX_MAX_BYTES: number = 64 * 1024 * 1024;

  /** Requests waiting for the planner agent at once, and how many more may wait: planning at run time has a line of its own. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000)
  PLANNER_CONCURRENCY: number = 8;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  PLANNER_QUEUE_MAX: number = 100;

  /** When set, every HTTP route but /health/live and /health/ready requires it (X-API-Key or Bearer). */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'API_KEY must be at least 16 characters' })
  API_KEY?: string;

  /** NATS authentication: user and password, a token, an nkey seed, or a credentials file; TLS with a CA. */
  @IsOptional()
  @IsString()
  NATS_USER?: string;

  @IsOptional()
  @IsString()
  NATS_PASSWORD?: string;

  @IsOptional()
  @IsString()
  NATS_TOKEN?: string;

  @IsOptional()
  @IsString()
  NATS_NKEY_SEED?: string;

  @IsOptional()
  @IsString()
  NATS_CREDS_FILE?: string;

  @IsOptional()
  @IsString()
  NATS_TLS_CA_FILE?: string;

  /**
   * The prefix of this replica's NATS inboxes (replies to its own requests, the planner's answers):
   * with a permissions file, the one its user may subscribe to (`_INBOX_orchestrator`). Requests
   * naming a reply subject under it are refused.
   */
  @IsString()
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'NATS_INBOX_PREFIX must be one subject token: letters, digits, _ and -' })
  NATS_INBOX_PREFIX: string = '_INBOX';

  /**
   * Rate limits of agents, over what they announce: `llm_agent=60/minute,reviewer=5/second`. The
   * orchestrators together never send an agent more sub-tasks than that in any window.
   */
  @IsOptional()
  @IsString()
  AGENT_RATE_LIMITS?: string;

  /** The largest `budget` a request may ask for (`max_tokens`, `max_cost`); unset: no limit. A larger one is refused. */
  @IsOptional()
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  BUDGET_MAX_TOKENS?: number;

  @IsOptional()
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  BUDGET_MAX_COST?: number;

  /** The budget of a plan made by the planner agent when neither its workflow file nor the request sets one; 0: none. */
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  PLAN_DEFAULT_MAX_TOKENS: number = 1_000_000;

  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  PLAN_DEFAULT_MAX_COST: number = 0;

  /**
   * Sub-tasks a plan made by the planner agent may send in all: each step's items (1 for a step
   * without for_each) times its attempts, summed; checked before it runs and as its lists expand.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  PLAN_MAX_SUBTASKS: number = 5_000;

  /** Requesters with a series of their own in the usage metrics; the others are counted as "other". */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000)
  USAGE_METRIC_REQUESTERS_MAX: number = 100;
  /** Schedule files, one per schedule (`<schedule_id>.yaml`); empty: the `schedules` folder of WORKFLOWS_DIR. */
  @IsString()
  SCHEDULES_DIR: string = '';

  /** The longest a replica waits before looking for due schedules again (it wakes for the next tick it knows of sooner). */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60_000)
  SCHEDULE_POLL_MS: number = 1_000;

  /**
   * A stage of a sweep pass (due work, unsent sub-tasks and responses, lines, queued runs,
   * retention) not finished after this long is logged and left behind: the next pass goes on.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  SWEEP_STAGE_TIMEOUT_MS: number = 15_000;

  /** Name of this replica in logs and health output; defaults to host and pid. */
  @IsOptional()
  @IsString()
  INSTANCE_ID?: string;

  /** A sub-task attempt committed but not marked published for this long is published again, with the same id, by any replica. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  DISPATCH_RESEND_AFTER_MS: number = 1_000;

  /**
   * How long a transition that meets transient database trouble (a lost connection, a restart, a
   * deadlock, a serialization failure, no resource) is tried again, with backoff, before it gives up.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  TRANSITION_RETRY_MAX_MS: number = 120_000;

  /**
   * A batch of transitions still not ready to commit after this long (waiting on something that
   * never answers) is rolled back: its workflows' locks and its turn go free, and what it was
   * moving comes round again (due work at the next sweep). 0 waits without limit.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  TRANSITION_STALL_MS: number = 30_000;
  /**
   * Expressions (`when`, `for_each`, `$expr`) run in EXPRESSION_WORKERS worker threads. Each
   * evaluation may take EXPRESSION_MAX_STEPS steps and build strings, lists and maps of at most
   * EXPRESSION_MAX_BYTES characters (EXPRESSION_MAX_BYTES in all) and EXPRESSION_MAX_ITEMS
   * entries; what a template builds (all the items' inputs of a for_each step together) is bounded
   * by EXPRESSION_MAX_BYTES too; the work of one step's expressions by EXPRESSION_TIMEOUT_MS.
   */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60_000)
  EXPRESSION_TIMEOUT_MS: number = 1_000;

  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  EXPRESSION_MAX_STEPS: number = 100_000;

  @Type(() => Number)
  @IsInt()
  @Min(1_024)
  @Max(256 * 1024 * 1024)
  EXPRESSION_MAX_BYTES: number = 16 * 1024 * 1024;

  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  EXPRESSION_MAX_ITEMS: number = 100_000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  EXPRESSION_WORKERS: number = 2;

  /** A planner's plan is refused when it is more than PLAN_MAX_BYTES of JSON (and past PLAN_MAX_SUBTASKS, above). */
  @Type(() => Number)
  @IsInt()
  @Min(1_024)
  PLAN_MAX_BYTES: number = 256 * 1024;

  /**
   * Durable intake: requests on agent.orchestrator_agent.task are kept in a JetStream stream and
   * acknowledged only once their workflow is committed. `auto` uses it whenever the NATS server
   * offers JetStream, `on` requires it (the service does not start without), `off` takes requests
   * over core NATS only.
   */
  @IsIn(['auto', 'on', 'off'])
  DURABLE_INTAKE: 'auto' | 'on' | 'off' = 'auto';

  /** How long a replica may hold a request of the stream without a sign of life before it goes to another (a replica that died). */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  INTAKE_ACK_WAIT_MS: number = 30_000;

  /** Deliveries of one request from the stream before it is answered FAILED instead (one that brought down every replica that took it). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  INTAKE_MAX_DELIVER: number = 5;
}

/** The settings read from `env`, and the rules each breaks. */
function readConfig(env: Record<string, unknown>): { config: AppConfig; invalid: ValidationError[] } {
  const config = plainToInstance(AppConfig, env, { exposeDefaultValues: true });
  return { config, invalid: validateSync(config, { skipMissingProperties: false, whitelist: false }) };
}

const describeError = (e: ValidationError): string => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`;

function refuse(errors: string[]): void {
  if (errors.length > 0) throw new Error(`Invalid configuration:\n  ${errors.join('\n  ')}`);
}

/** `ConfigModule.forRoot({ validate })`: fails fast, naming every bad variable. */
export function validateConfig(env: Record<string, unknown>): AppConfig {
  const { config, invalid } = readConfig(env);
  const errors = invalid.map(describeError);
  if (config.PLANNER_AGENT !== '' && !isAgentName(config.PLANNER_AGENT)) {
    errors.push('PLANNER_AGENT: must be an agent name, or empty to turn dynamic planning off');
  }
  if (config.STATIC_AGENTS !== undefined) {
    const parsed = parseStaticAgents(config.STATIC_AGENTS);
    if (typeof parsed === 'string') errors.push(`STATIC_AGENTS: ${parsed}`);
  }
  if (config.AGENT_RATE_LIMITS !== undefined) {
    const parsed = parseAgentRates(config.AGENT_RATE_LIMITS);
    if (typeof parsed === 'string') errors.push(`AGENT_RATE_LIMITS: ${parsed}`);
  }
  refuse(errors);
  return config;
}

/** One setting, validated as at boot, for a tool that runs without the service (the workflows validator). */
export function validateSetting<K extends keyof AppConfig>(env: Record<string, unknown>, name: K): AppConfig[K] {
  const { config, invalid } = readConfig(env);
  refuse(invalid.filter((e) => e.property === name).map(describeError));
  return config[name];
}

export interface StaticAgent {
  name: string;
  capabilities: string[];
  max_concurrency: number | null;
}

/** The agents of STATIC_AGENTS, or what is wrong with it. */
export function parseStaticAgents(json: string): StaticAgent[] | string {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return 'must be JSON';
  }
  if (!Array.isArray(raw)) return 'must be a JSON list of { name, capabilities, max_concurrency? }';
  const agents: StaticAgent[] = [];
  for (const [i, item] of raw.entries()) {
    if (!isPlainObject(item) || !isAgentName(item['name'])) return `[${i}].name must be an agent name`;
    const capabilities = item['capabilities'];
    if (!Array.isArray(capabilities) || !capabilities.every((c) => typeof c === 'string' && TASK_TYPE_PATTERN.test(c))) {
      return `[${i}].capabilities must be a list of task types`;
    }
    const max = item['max_concurrency'];
    if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) {
      return `[${i}].max_concurrency must be a positive integer`;
    }
    agents.push({ name: item['name'], capabilities: capabilities as string[], max_concurrency: (max) ?? null });
  }
  return agents;
}

/** `60/minute`, `20/second`: a rate as configuration writes it, or what is wrong with it. */
export function parseRate(text: string): RateLimit | string {
  const match = /^\s*(\d+)\s*\/\s*(second|minute|hour)\s*$/.exec(text);
  const limit = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(limit) || limit < RATE_LIMIT_BOUNDS.min || limit > RATE_LIMIT_BOUNDS.max) {
    return `must be <limit>/<second|minute|hour> with a limit from ${RATE_LIMIT_BOUNDS.min} to ${RATE_LIMIT_BOUNDS.max}, e.g. 60/minute`;
  }
  return { limit, per: match[2] as RatePeriod };
}

/** `AGENT_RATE_LIMITS`: `llm_agent=60/minute,reviewer=5/second`, by agent; or what is wrong with it. */
export function parseAgentRates(text: string): Map<string, RateLimit> | string {
  const rates = new Map<string, RateLimit>();
  for (const part of text.split(',').map((one) => one.trim()).filter((one) => one !== '')) {
    const at = part.indexOf('=');
    const name = at < 0 ? part : part.slice(0, at).trim();
    if (at < 0 || !isAgentName(name)) return `"${part}" must be <agent name>=<limit>/<second|minute|hour>`;
    const rate = parseRate(part.slice(at + 1));
    if (typeof rate === 'string') return `${name}: ${rate}`;
    rates.set(name, rate);
  }
  return rates;
}
