import { BadRequestException, Controller, Get, NotFoundException, Param, Query, ValidationPipe } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorDoc, TaskDetailDoc, TaskListDoc } from '../http/openapi.js';
import { ListTasksQuery, type TaskDetailView, type TaskListView } from './task-status.dto.js';
import { decodeCursor } from './list-cursor.js';
import { TaskStatusService } from './task-status.service.js';

@ApiTags('tasks')
@Controller('tasks')
export class TaskStatusHttpController {
  constructor(private readonly status: TaskStatusService) {}

  @Get()
  @ApiOperation({ summary: 'Tasks, newest first, filtered by status and task_type, a page at a time (pass next_cursor as cursor)' })
  @ApiOkResponse({ type: TaskListDoc })
  @ApiBadRequestResponse({ type: ErrorDoc })
  list(
    @Query(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true })) query: ListTasksQuery,
  ): Promise<TaskListView> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (after === null) throw new BadRequestException({ code: 'INVALID_REQUEST', message: "cursor: is not a page's next_cursor" });
    return this.status.list(query, after);
  }

  @Get(':taskId')
  @ApiOperation({ summary: 'One task with its progress and every sub-task' })
  @ApiOkResponse({ type: TaskDetailDoc })
  @ApiNotFoundResponse({ type: ErrorDoc })
  async get(@Param('taskId') taskId: string): Promise<TaskDetailView> {
    const view = await this.status.get(taskId);
    if (!view) throw new NotFoundException({ code: 'TASK_NOT_FOUND', message: `no task with task_id ${JSON.stringify(taskId)}` });
    return view;
  }
}
