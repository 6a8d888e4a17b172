import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Patch,
  Post,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { BackfillReply, ScheduleView, TriggerReply } from '@orchestrator/contracts';
import type { Response } from 'express';
import { ErrorDoc } from '../http/openapi.js';
import { ScheduleError } from './schedule-error.js';
import { BackfillReplyDoc, BackfillRequestDoc, ScheduleDeletedDoc, ScheduleDoc, ScheduleListDoc, ScheduleRequestDoc, TriggerReplyDoc } from './schedule.docs.js';
import { SchedulesService } from './schedules.service.js';

/** `/schedules`: workflows started at times (cron or every_ms), paused, resumed, run by hand and backfilled. */
@ApiTags('schedules')
@Controller('schedules')
export class SchedulesHttpController {
  constructor(private readonly schedules: SchedulesService) {}

  @Post()
  @ApiOperation({ summary: 'Create a schedule' })
  @ApiBody({ type: ScheduleRequestDoc })
  @ApiCreatedResponse({ type: ScheduleDoc })
  @ApiBadRequestResponse({ type: ErrorDoc, description: 'The field that is wrong and why' })
  @ApiConflictResponse({ type: ErrorDoc, description: 'The schedule_id is taken' })
  create(@Body() body: unknown): Promise<ScheduleView> {
    return mapped(this.schedules.create(body));
  }

  @Get()
  @ApiOperation({ summary: 'Every schedule with its next ticks and last run' })
  @ApiOkResponse({ type: ScheduleListDoc })
  async list(): Promise<{ items: ScheduleView[] }> {
    return { items: await mapped(this.schedules.list()) };
  }

  @Get(':scheduleId')
  @ApiOperation({ summary: 'A schedule, its next ticks and its last runs' })
  @ApiOkResponse({ type: ScheduleDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  get(@Param('scheduleId') scheduleId: string): Promise<ScheduleView> {
    return mapped(this.schedules.get(scheduleId));
  }

  @Patch(':scheduleId')
  @ApiOperation({ summary: 'Change a schedule (the fields given); cron or every_ms replaces its timing' })
  @ApiBody({ type: ScheduleRequestDoc })
  @ApiOkResponse({ type: ScheduleDoc })
  @ApiBadRequestResponse({ type: ErrorDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  @ApiConflictResponse({ type: ErrorDoc, description: 'Declared in a schedule file: changed there' })
  update(@Param('scheduleId') scheduleId: string, @Body() body: unknown): Promise<ScheduleView> {
    return mapped(this.schedules.update(scheduleId, body));
  }

  @Delete(':scheduleId')
  @ApiOperation({ summary: 'Delete a schedule (the runs it started go on)' })
  @ApiOkResponse({ type: ScheduleDeletedDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  @ApiConflictResponse({ type: ErrorDoc, description: 'Declared in a schedule file: removed there' })
  async delete(@Param('scheduleId') scheduleId: string): Promise<{ schedule_id: string; deleted: true }> {
    await mapped(this.schedules.delete(scheduleId));
    return { schedule_id: scheduleId, deleted: true };
  }

  @Post(':scheduleId/pause')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Pause: no tick fires until it is resumed' })
  @ApiOkResponse({ type: ScheduleDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  pause(@Param('scheduleId') scheduleId: string): Promise<ScheduleView> {
    return mapped(this.schedules.setPaused(scheduleId, true));
  }

  @Post(':scheduleId/resume')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Resume from the next tick after now (the ticks of the pause are not caught up)' })
  @ApiOkResponse({ type: ScheduleDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  resume(@Param('scheduleId') scheduleId: string): Promise<ScheduleView> {
    return mapped(this.schedules.setPaused(scheduleId, false));
  }

  @Post(':scheduleId/trigger')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Run it now, under its overlap policy' })
  @ApiAcceptedResponse({ type: TriggerReplyDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  trigger(@Param('scheduleId') scheduleId: string, @Res({ passthrough: true }) res: Response): Promise<TriggerReply> {
    return mapped(this.schedules.trigger(scheduleId), res);
  }

  @Post(':scheduleId/backfill')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Run every tick from `from` to `to` that has not run (asking again does nothing)' })
  @ApiBody({ type: BackfillRequestDoc })
  @ApiAcceptedResponse({ type: BackfillReplyDoc })
  @ApiBadRequestResponse({ type: ErrorDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  backfill(@Param('scheduleId') scheduleId: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<BackfillReply> {
    return mapped(this.schedules.backfill(scheduleId, body), res);
  }
}

/** ScheduleErrors as HTTP errors, `{ code, message }`. */
async function mapped<T>(work: Promise<T>, res?: Response): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    const body = { code: error.code, message: error.message };
    switch (error.code) {
      case 'INVALID_SCHEDULE':
        throw new BadRequestException(body);
      case 'SCHEDULE_NOT_FOUND':
        throw new NotFoundException(body);
      case 'SCHEDULE_EXISTS':
      case 'SCHEDULE_FROM_FILE':
        throw new ConflictException(body);
      case 'OVERLOADED':
        res?.setHeader('Retry-After', '1');
        throw new ServiceUnavailableException(body);
    }
  }
}
