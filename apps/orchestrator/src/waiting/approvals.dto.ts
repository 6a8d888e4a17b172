import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { SIGNAL_NAME_PATTERN } from '@orchestrator/contracts';
import { ListTasksQuery } from '../status/task-status.dto.js';

/** `GET /approvals`: a page (`limit`, `cursor` as the task listing has them), of one signal or all. */
export class ListApprovalsQuery extends PickType(ListTasksQuery, ['limit', 'cursor'] as const) {
  @ApiPropertyOptional({ description: 'Only the steps waiting for this signal', pattern: SIGNAL_NAME_PATTERN.source })
  @IsOptional()
  @Matches(SIGNAL_NAME_PATTERN, { message: `signal must match ${SIGNAL_NAME_PATTERN.source}` })
  signal?: string;
}
