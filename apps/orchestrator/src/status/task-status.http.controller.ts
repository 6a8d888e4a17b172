import { BadRequestException, Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ErrorDoc, TaskDetailDoc, TaskListDoc } from '../http/openapi.js';
import { ErrorCode } from '@orchestrator/contracts';
import { queryPipe } from '../http/query-pipe.js';
import type { RootSearch } from '../persistence/root-search.js';
import { ListTasksQuery, PAYLOAD_PREFIX, payloadSearch, rootSearch } from './task-search.dto.js';
import type { TaskDetailView, TaskListView } from './task-status.dto.js';
import { decodeCursor } from './list-cursor.js';
import { TaskStatusService } from './task-status.service.js';

@ApiTags('tasks')
@Controller('tasks')
export class TaskStatusHttpController {
  constructor(private readonly status: TaskStatusService) {}

  @Get()
  @ApiOperation({
    summary: 'Tasks, newest first, a page at a time (pass next_cursor as cursor), filtered by all the filters given',
    description:
      'Besides the parameters below, `payload.<field>=<value>` (`payload.customer=42`, `payload.address.city=Paris`) keeps the tasks ' +
      'whose request payload has that value at that path (a number, true, false or null as such or as text; "quoted" as text only).',
  })
  @ApiQuery({ type: ListTasksQuery })
  @ApiOkResponse({ type: TaskListDoc })
  @ApiBadRequestResponse({ type: ErrorDoc })
  async list(@Query() raw: Record<string, unknown>): Promise<TaskListView> {
    const payload = payloadSearch(raw);
    if (!payload.ok) throw invalid(payload.error);
    const rest = Object.fromEntries(Object.entries(raw).filter(([key]) => !key.startsWith(PAYLOAD_PREFIX)));
    const query = (await queryPipe().transform(rest, { type: 'query', metatype: ListTasksQuery })) as ListTasksQuery;
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (after === null) throw invalid("cursor: is not a page's next_cursor");
    let search: RootSearch;
    try {
      search = rootSearch(query, payload.filters);
    } catch (error) {
      throw invalid((error as Error).message);
    }
    return this.status.list(query, search, after);
  }

  @Get(':taskId')
  @ApiOperation({ summary: 'One task with its progress and every sub-task' })
  @ApiOkResponse({ type: TaskDetailDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  async get(@Param('taskId') taskId: string): Promise<TaskDetailView> {
    const view = await this.status.get(taskId);
    if (!view) throw new NotFoundException({ code: ErrorCode.TaskNotFound, message: `no task with task_id ${JSON.stringify(taskId)}` });
    return view;
  }
}

const invalid = (message: string): BadRequestException => new BadRequestException({ code: ErrorCode.InvalidRequest, message });
