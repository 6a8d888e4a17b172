import { Module } from '@nestjs/common';
import { IntakeModule } from '../intake/intake.module.js';
import { PlanningModule } from '../planning/planning.module.js';
import { ScheduleFiles } from './schedule-files.service.js';
import { ScheduleFiring } from './schedule-firing.js';
import { ScheduleValidator } from './schedule-validator.js';
import { SchedulerService } from './scheduler.service.js';
import { SchedulesHttpController } from './schedules.http.controller.js';
import { SchedulesRepository } from './schedules.repository.js';
import { SchedulesService } from './schedules.service.js';

/** Schedules: workflows started at times, by whichever replica takes the tick. */
@Module({
  imports: [IntakeModule, PlanningModule],
  controllers: [SchedulesHttpController],
  providers: [SchedulesRepository, ScheduleValidator, ScheduleFiles, ScheduleFiring, SchedulerService, SchedulesService],
})
export class SchedulesModule {}
