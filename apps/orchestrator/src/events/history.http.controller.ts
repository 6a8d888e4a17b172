import { BadRequestException, Controller, Get, Headers, Logger, NotFoundException, Param, Query, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiBadRequestResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ErrorCode, type HistoryEvent } from '@orchestrator/contracts';
import { queryPipe } from '../http/query-pipe.js';
import type { Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import { ErrorDoc, EVENT_STREAM_SCHEMA, EventPageDoc } from '../http/openapi.js';
import { TaskEventsRepository } from '../persistence/task-events.repository.js';
import { TasksRepository } from '../persistence/tasks.repository.js';
import { AllEventsStream, parseCursor } from './all-events-stream.js';
import { AllEventsStreamQuery, EventPageQuery, WorkflowStreamQuery } from './history.dto.js';
import { HistoryRelay, type HistorySink } from './history-relay.service.js';
import { SseConnection } from './sse-connection.js';
import { WorkflowStream } from './workflow-stream.js';

const query = queryPipe;

const STREAM_DESCRIPTION =
  'Server-Sent Events: each event is a history event as JSON (`data:`), with its position as `id:`. ' +
  'A client that reconnects with `Last-Event-ID` gets what it missed, then the live events, each once. ' +
  'Browsers cannot set headers on an EventSource: the API key may be given as `?api_key=` on the stream routes.';

/** A workflow's history (`GET /tasks/:task_id/events`) and the live streams of one workflow and of all. */
@ApiTags('history')
@Controller()
export class HistoryHttpController {
  private readonly logger = new Logger(HistoryHttpController.name);
  /** Streams this replica serves now. */
  private streams = 0;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly events: TaskEventsRepository,
    private readonly relay: HistoryRelay,
    private readonly config: AppConfig,
  ) {}

  @Get('tasks/:taskId/events')
  @ApiOperation({ summary: "A workflow's history, oldest first, a page at a time (after an event id)" })
  @ApiOkResponse({ type: EventPageDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  @ApiBadRequestResponse({ type: ErrorDoc })
  async page(@Param('taskId') taskId: string, @Query(query()) page: EventPageQuery): Promise<{ items: HistoryEvent[]; next_after: number | null }> {
    const rootId = await this.rootId(taskId);
    const items = await this.events.ofRoot(rootId, page.after, page.limit);
    return { items, next_after: items.length === page.limit ? (items.at(-1)?.id ?? null) : null };
  }

  @Get('tasks/:taskId/stream')
  @ApiOperation({ summary: "A workflow's history from the start (or after `after`), then live", description: STREAM_DESCRIPTION })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The id of the last event received: the stream resumes after it' })
  @ApiOkResponse({ description: 'An event stream of history events', schema: EVENT_STREAM_SCHEMA })
  @ApiNotFoundResponse({ type: ErrorDoc })
  @ApiServiceUnavailableResponse({ type: ErrorDoc, description: 'EVENT_STREAMS_MAX streams are open on this replica (Retry-After)' })
  async workflowStream(
    @Param('taskId') taskId: string,
    @Query(query()) options: WorkflowStreamQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const rootId = await this.rootId(taskId);
    let after = options.after ?? 0;
    if (lastEventId !== undefined && lastEventId !== '') {
      if (!/^\d{1,15}$/.test(lastEventId)) throw new BadRequestException({ code: ErrorCode.InvalidRequest, message: 'Last-Event-ID: must be the id of an event of this workflow' });
      after = Number(lastEventId);
    }
    this.open(res, (sse) => new WorkflowStream(rootId, after, this.events, sse, (error) => this.failed(error)));
  }

  @Get('events/stream')
  @ApiOperation({ summary: "Every workflow's history, live from now (or from Last-Event-ID), filtered by task_type and status", description: STREAM_DESCRIPTION })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The id of the last event received: the stream resumes after it' })
  @ApiOkResponse({ description: 'An event stream of history events', schema: EVENT_STREAM_SCHEMA })
  @ApiBadRequestResponse({ type: ErrorDoc })
  @ApiServiceUnavailableResponse({ type: ErrorDoc, description: 'EVENT_STREAMS_MAX streams are open on this replica (Retry-After)' })
  allStream(@Query(query()) filter: AllEventsStreamQuery, @Headers('last-event-id') lastEventId: string | undefined, @Res() res: Response): void {
    let cursor = null;
    if (lastEventId !== undefined && lastEventId !== '') {
      cursor = parseCursor(lastEventId);
      if (!cursor) throw new BadRequestException({ code: ErrorCode.InvalidRequest, message: 'Last-Event-ID: must be an id this stream sent' });
    }
    const { task_type, status } = filter;
    this.open(res, (sse) => new AllEventsStream(cursor, { task_type, status }, this.events, sse, (error) => this.failed(error)));
  }

  /** Starts a stream, or refuses it (503, Retry-After) when EVENT_STREAMS_MAX are open: each holds a connection and a sink. */
  private open(res: Response, start: (sse: SseConnection) => HistorySink): void {
    if (this.streams >= this.config.EVENT_STREAMS_MAX) {
      res.setHeader('Retry-After', '5');
      throw new ServiceUnavailableException({ code: 'TOO_MANY_STREAMS', message: `this replica serves ${this.config.EVENT_STREAMS_MAX} event streams already (EVENT_STREAMS_MAX); connect again later` });
    }
    this.streams += 1;
    const sse = new SseConnection(res);
    const remove = this.relay.add(start(sse));
    sse.closed$(() => {
      this.streams -= 1;
      remove();
    });
  }

  private async rootId(taskId: string): Promise<string> {
    const root = await this.tasks.findRootByTaskId(taskId);
    if (!root) throw new NotFoundException({ code: ErrorCode.TaskNotFound, message: `no task with task_id ${JSON.stringify(taskId)}` });
    return root.id;
  }

  private failed(error: unknown): void {
    this.logger.warn(`a history stream stopped: ${(error as Error).message}`);
  }
}
