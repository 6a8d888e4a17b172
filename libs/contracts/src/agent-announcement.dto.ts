import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Min,
} from 'class-validator';
import { AGENT_NAME_PATTERN, TASK_TYPE_PATTERN } from './names.js';
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

  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number of seconds since the epoch' })
  ts!: number;
}

export function validateAgentAnnouncement(input: unknown): Validated<AgentAnnouncement> {
  const result = validateInto(AgentAnnouncementDto, input, 'announcement');
  if (!result.ok || !isPlainObject(input) || input['load'] === undefined) return result;
  const load = validateInto(AgentLoadDto, input['load'], 'load');
  if (!load.ok) return { ok: false, error: `load.${load.error}` };
  return { ok: true, value: { ...result.value, load: { ...load.value } } };
}
