import { Controller, Get, NotFoundException, Param, Query, ValidationPipe } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorDoc, TaskDetailDoc, TaskListDoc } from '../http/openapi.js';
import { ListTasksQuery, type TaskDetailView, type TaskListView } from './task-status.dto.js';
import { TaskStatusService } from './task-status.service.js';

@ApiTags('tasks')
@Controller('tasks')
export class TaskStatusHttpController {
  constructor(private readonly status: TaskStatusService) {}

  @Get()
  @ApiOperation({ summary: 'Tasks, newest first, filtered by status and task_type' })
  @ApiOkResponse({ type: TaskListDoc })
  list(
    @Query(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true })) query: ListTasksQuery,
  ): Promise<TaskListView> {
    return this.status.list(query);
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
