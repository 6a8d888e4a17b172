import { join, resolve } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { loadScheduleFiles, type ScheduleFile } from './schedule-files.js';
import { ScheduleValidator } from './schedule-validator.js';

/** The schedules declared in files (SCHEDULES_DIR), read and checked once at start: a bad file stops the service, named. */
@Injectable()
export class ScheduleFiles {
  private readonly logger = new Logger(ScheduleFiles.name);
  readonly dir: string;
  readonly schedules: readonly ScheduleFile[];

  constructor(config: AppConfig, validator: ScheduleValidator) {
    this.dir = resolve(scheduleDir(config.SCHEDULES_DIR, config.WORKFLOWS_DIR));
    this.schedules = loadScheduleFiles(this.dir, validator.context);
    if (this.schedules.length > 0) this.logger.log(`loaded ${this.schedules.length} schedule(s) from ${this.dir}: ${this.schedules.map((s) => s.spec.schedule_id).join(', ')}`);
  }
}

/** Where schedule files are: SCHEDULES_DIR, or the `schedules` folder of the workflows' folder. */
export function scheduleDir(schedulesDir: string, workflowsDir: string): string {
  return schedulesDir === '' ? join(workflowsDir, 'schedules') : schedulesDir;
}
