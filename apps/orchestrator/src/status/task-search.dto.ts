import { ApiPropertyOptional } from '@nestjs/swagger';
import { AGENT_NAME_PATTERN, TASK_TYPE_PATTERN, TaskStatus } from '@orchestrator/contracts';
import { Transform, Type } from 'class-transformer';
import { IsEnum, IsIn, IsInt, IsISO8601, IsOptional, Length, Matches, Max, Min } from 'class-validator';
import type { RootSearch } from '../persistence/root-search.js';

const upper = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.toUpperCase() : value);
const ISO = { strict: true, strictSeparator: true } as const;
const TIME = 'an ISO 8601 time, e.g. 2026-11-30T12:00:00Z';

/** `GET /tasks`: filters (all that are given must hold), then a page. Fields of the payload come as `payload.<field>=<value>`, apart. */
export class ListTasksQuery {
  @ApiPropertyOptional({ enum: TaskStatus, description: 'In any case' })
  @IsOptional()
  @Transform(upper)
  @IsEnum(TaskStatus, { message: `must be one of ${Object.values(TaskStatus).join(', ')} (in any case)` })
  status?: TaskStatus;

  @ApiPropertyOptional({ pattern: TASK_TYPE_PATTERN.source })
  @IsOptional()
  @Matches(TASK_TYPE_PATTERN, { message: `must match ${TASK_TYPE_PATTERN.source}` })
  task_type?: string;

  @ApiPropertyOptional({ pattern: AGENT_NAME_PATTERN.source, description: 'Who asked' })
  @IsOptional()
  @Matches(AGENT_NAME_PATTERN, { message: `must be an agent name matching ${AGENT_NAME_PATTERN.source}` })
  requester_id?: string;

  @ApiPropertyOptional({ pattern: AGENT_NAME_PATTERN.source, description: 'A step of the task was sent to this agent (its latest attempt)' })
  @IsOptional()
  @Matches(AGENT_NAME_PATTERN, { message: `must be an agent name matching ${AGENT_NAME_PATTERN.source}` })
  agent?: string;

  @ApiPropertyOptional({ minLength: 3, maxLength: 200, description: "Text in the task's error, in any case" })
  @IsOptional()
  @Length(3, 200, { message: 'must be 3 to 200 characters' })
  error?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created at or after' })
  @IsOptional()
  @IsISO8601(ISO, { message: `must be ${TIME}` })
  created_after?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created before' })
  @IsOptional()
  @IsISO8601(ISO, { message: `must be ${TIME}` })
  created_before?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Finished at or after' })
  @IsOptional()
  @IsISO8601(ISO, { message: `must be ${TIME}` })
  finished_after?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Finished before' })
  @IsOptional()
  @IsISO8601(ISO, { message: `must be ${TIME}` })
  finished_before?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  @Max(100, { message: 'must be at most 100' })
  limit: number = 20;

  @ApiPropertyOptional({ description: "The previous page's next_cursor: the tasks after those (with the same filters)" })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: "must be a page's next_cursor" })
  cursor?: string;

  @ApiPropertyOptional({ description: 'true to count every task the filters match (a scan of them: ask only when needed)' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'must be true or false' })
  count?: 'true' | 'false';
}

export const PAYLOAD_PREFIX = 'payload.';
const FIELD = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_PAYLOAD_FILTERS = 10;
const MAX_PATH = 5;

/**
 * `payload.<field>[.<field>…]=<value>` parameters as containment tests: the payload has that value
 * at that path. A value that reads as JSON (`42`, `true`, `null`, `"42"`) matches it as such; a
 * bare number or word matches its text too, since a client cannot tell a URL which it meant.
 */
export function payloadSearch(query: Record<string, unknown>): { ok: true; filters: Record<string, unknown>[][] } | { ok: false; error: string } {
  const filters: Record<string, unknown>[][] = [];
  for (const [key, raw] of Object.entries(query)) {
    if (!key.startsWith(PAYLOAD_PREFIX)) continue;
    const path = key.slice(PAYLOAD_PREFIX.length).split('.');
    if (path.length > MAX_PATH || !path.every((field) => FIELD.test(field))) {
      return { ok: false, error: `${key}: must be payload. and up to ${MAX_PATH} field names ([A-Za-z0-9_-]) joined by dots` };
    }
    if (typeof raw !== 'string' || raw.length > 500) return { ok: false, error: `${key}: must be given once, at most 500 characters` };
    const values: unknown[] = [raw];
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'string') values.splice(0, 1, parsed);
      else if (parsed === null || typeof parsed === 'number' || typeof parsed === 'boolean') values.unshift(parsed);
    } catch {
      // plain text
    }
    filters.push(values.map((value) => path.reduceRight<unknown>((inner, field) => ({ [field]: inner }), value) as Record<string, unknown>));
  }
  if (filters.length > MAX_PAYLOAD_FILTERS) return { ok: false, error: `payload: at most ${MAX_PAYLOAD_FILTERS} fields may be searched at once` };
  return { ok: true, filters };
}

/** The search a valid query asks for; throws naming a time that JavaScript cannot read (ISO 8601 week dates, say). */
export function rootSearch(query: ListTasksQuery, payload: Record<string, unknown>[][]): RootSearch {
  const time = (value: string | undefined, name: string): Date | undefined => {
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new RangeError(`${name}: must be ${TIME}`);
    return date;
  };
  return {
    status: query.status,
    task_type: query.task_type,
    requester_id: query.requester_id,
    agent: query.agent,
    error: query.error,
    created_after: time(query.created_after, 'created_after'),
    created_before: time(query.created_before, 'created_before'),
    finished_after: time(query.finished_after, 'finished_after'),
    finished_before: time(query.finished_before, 'finished_before'),
    payload,
  };
}
