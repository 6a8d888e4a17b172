import { BadRequestException, Controller, Get, Query, ValidationPipe } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ApprovalListView, ApprovalView } from '@orchestrator/contracts';
import { ErrorDoc } from '../http/openapi.js';
import { WaitsRepository, type WaitingSignalRow } from '../persistence/waits.repository.js';
import { SIGNAL_WAIT_PREFIX } from '../engine/waits/wait-keys.js';
import { decodeCursor, encodeCursor } from '../status/list-cursor.js';
import type { WaitForDefinition } from '../planning/wait-definition.js';
import { ListApprovalsQuery } from './approvals.dto.js';
import { ApprovalListDoc } from './waiting.docs.js';

/** `GET /approvals`: every step waiting for a signal — for a person, most often — longest waiting first. */
@ApiTags('signals')
@Controller('approvals')
export class ApprovalsHttpController {
  constructor(private readonly waits: WaitsRepository) {}

  @Get()
  @ApiOperation({ summary: 'Steps waiting for a signal (wait_for: { signal }), longest waiting first, a page at a time' })
  @ApiOkResponse({ type: ApprovalListDoc })
  @ApiBadRequestResponse({ type: ErrorDoc })
  async list(@Query(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true })) query: ListApprovalsQuery): Promise<ApprovalListView> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (after === null) throw new BadRequestException({ code: 'INVALID_REQUEST', message: "cursor: is not a page's next_cursor" });
    const { rows, more } = await this.waits.waitingForSignals(query.limit, after, query.signal);
    const last = rows.at(-1);
    return { items: rows.map(approvalOf), limit: query.limit, next_cursor: more && last ? encodeCursor({ micros: last.micros, id: last.id }) : null };
  }
}

function approvalOf(row: WaitingSignalRow): ApprovalView {
  const wait = (row.plan?.steps.find((step) => step.id === row.step_key)?.wait_for ?? {}) as Partial<WaitForDefinition>;
  return {
    task_id: row.task_id,
    task_type: row.task_type,
    step: row.step_key,
    signal: row.wait_key.slice(SIGNAL_WAIT_PREFIX.length),
    input: row.payload,
    payload: wait.payload ?? {},
    waiting_since: row.started_at.toISOString(),
    deadline_at: row.deadline_at ? row.deadline_at.toISOString() : null,
    on_timeout: wait.on_timeout ?? 'fail',
  };
}
