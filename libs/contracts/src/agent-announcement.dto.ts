import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { AGENT_NAME_PATTERN, TASK_TYPE_PATTERN } from './names.js';
import { RATE_LIMIT_BOUNDS, RATE_PERIODS_MS, type RateLimit, type RatePeriod } from './rate-limit.js';
import { isPlainObject, validateInto, type Validated } from './validation.js';

export interface AgentLoad {
  in_flight: number;
  max_concurrency: number;
}

/** What an agent says of itself at start and on every heartbeat (CONTRACT.md). */
export interface AgentAnnouncement {
  name: string;
  instance_id: string;
  agent_type: string;
  capabilities: string[];
  load?: AgentLoad;
  /** The most sub-tasks the agent takes per window (its provider's cap, say); the orchestrators keep to it together. */
  rate_limit?: RateLimit;
  ts: number;
}

export class AgentLoadDto implements AgentLoad {
  @Min(0, { message: 'must not be negative' })
  @IsInt({ message: 'must be an integer' })
  in_flight!: number;

  @Min(1, { message: 'must be at least 1' })
  @IsInt({ message: 'must be an integer' })
  max_concurrency!: number;
}

export class AgentRateLimitDto implements RateLimit {
  @Max(RATE_LIMIT_BOUNDS.max, { message: `must be at most ${RATE_LIMIT_BOUNDS.max}` })
  @Min(RATE_LIMIT_BOUNDS.min, { message: `must be at least ${RATE_LIMIT_BOUNDS.min}` })
  @IsInt({ message: 'must be an integer' })
  limit!: number;

  @IsIn(Object.keys(RATE_PERIODS_MS), { message: `must be one of ${Object.keys(RATE_PERIODS_MS).join(', ')}` })
  per!: RatePeriod;
}

export class AgentAnnouncementDto implements AgentAnnouncement {
  @Matches(AGENT_NAME_PATTERN, { message: `must match ${AGENT_NAME_PATTERN.source}` })
  @IsString({ message: 'must be a string' })
  name!: string;

  @Length(1, 128, { message: 'must be 1 to 128 characters' })
  @IsString({ message: 'must be a string' })
  instance_id!: string;

  @Length(1, 64, { message: 'must be 1 to 64 characters' })
  @IsString({ message: 'must be a string' })
  agent_type!: string;

  @Matches(TASK_TYPE_PATTERN, { each: true, message: `each must match ${TASK_TYPE_PATTERN.source}` })
  @ArrayMaxSize(256, { message: 'must list at most 256 capabilities' })
  @IsArray({ message: 'must be an array of task types' })
  capabilities!: string[];

  @IsOptional()
  @IsObject({ message: 'must be an object' })
  load?: AgentLoad;

  @IsOptional()
  @IsObject({ message: 'must be an object' })
  rate_limit?: RateLimit;

  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number of seconds since the epoch' })
  ts!: number;
}

export function validateAgentAnnouncement(input: unknown): Validated<AgentAnnouncement> {
  const result = validateInto(AgentAnnouncementDto, input, 'announcement');
  if (!result.ok || !isPlainObject(input)) return result;
  const value: AgentAnnouncement = { ...result.value };
  if (input['load'] !== undefined) {
    const load = validateInto(AgentLoadDto, input['load'], 'load');
    if (!load.ok) return { ok: false, error: `load.${load.error}` };
    value.load = { in_flight: load.value.in_flight, max_concurrency: load.value.max_concurrency };
  }
  if (input['rate_limit'] !== undefined && input['rate_limit'] !== null) {
    const rate = validateInto(AgentRateLimitDto, input['rate_limit'], 'rate_limit');
    if (!rate.ok) return { ok: false, error: `rate_limit.${rate.error}` };
    value.rate_limit = { limit: rate.value.limit, per: rate.value.per };
  }
  return { ok: true, value };
}
