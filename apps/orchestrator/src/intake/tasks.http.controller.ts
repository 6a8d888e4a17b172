import { BadRequestException, Body, Controller, HttpCode, HttpStatus, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { SubmitTaskUseCase } from './submit-task.usecase.js';

export interface SubmitTaskReply {
  task_id: string;
  status: string;
  links: { self: string };
}

/** `POST /tasks`: the same use case as the NATS intake, for the API gateway. */
@Controller('tasks')
export class TasksHttpController {
  constructor(private readonly submitTask: SubmitTaskUseCase) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  async submit(@Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<SubmitTaskReply> {
    const outcome = await this.submitTask.execute(body);
    switch (outcome.kind) {
      case 'rejected':
        throw new BadRequestException({ code: outcome.code, message: outcome.error, task_id: outcome.taskId });
      case 'existing':
        res.status(HttpStatus.OK);
        break;
      case 'accepted':
        break;
    }
    const taskId = outcome.root.task_id;
    return { task_id: taskId, status: outcome.root.status, links: { self: `/tasks/${encodeURIComponent(taskId)}` } };
  }
}
