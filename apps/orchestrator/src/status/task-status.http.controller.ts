import { Controller, Get, NotFoundException, Param, Query, ValidationPipe } from '@nestjs/common';
import { ListTasksQuery, type TaskDetailView, type TaskListView } from './task-status.dto.js';
import { TaskStatusService } from './task-status.service.js';

@Controller('tasks')
export class TaskStatusHttpController {
  constructor(private readonly status: TaskStatusService) {}

  @Get()
  list(
    @Query(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true })) query: ListTasksQuery,
  ): Promise<TaskListView> {
    return this.status.list(query);
  }

  @Get(':taskId')
  async get(@Param('taskId') taskId: string): Promise<TaskDetailView> {
    const view = await this.status.get(taskId);
    if (!view) throw new NotFoundException({ code: 'TASK_NOT_FOUND', message: `no task with task_id ${JSON.stringify(taskId)}` });
    return view;
  }
}
