import type { DataSourceOptions } from 'typeorm';
import { ScheduleEntity, ScheduleRunEntity } from './schedule.entity.js';
import { TaskEventEntity } from './task-event.entity.js';
import { TaskEntity } from './task.entity.js';
import { EventShapeEntity, ExternalEventEntity, WorkflowSignalEntity } from './wait.entities.js';
import { CreateTasks1764000000000 } from './migrations/1764000000000-create-tasks.js';
import { AddTraceParent1764000000001 } from './migrations/1764000000001-add-trace-parent.js';
import { AddPlanHistory1764000000002 } from './migrations/1764000000002-add-plan-history.js';
import { EngineCore1764000000003 } from './migrations/1764000000003-engine-core.js';
import { ListingAndRetention1764000000004 } from './migrations/1764000000004-listing-and-retention.js';
import { TaskEvents1764000000005 } from './migrations/1764000000005-task-events.js';
import { DispatchQueue1764000000015 } from './migrations/1764000000015-dispatch-queue.js';
import { RunPolicies1764000000020 } from './migrations/1764000000020-run-policies.js';
import { WorkflowsThatWait1764000000030 } from './migrations/1764000000030-workflows-that-wait.js';
import { DelayedStart1764000000040 } from './migrations/1764000000040-delayed-start.js';
import { Schedules1764000000041 } from './migrations/1764000000041-schedules.js';

/** The one description of the database connection, shared by the app and the migration CLI. */
export function dataSourceOptions(databaseUrl: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: [TaskEntity, TaskEventEntity, WorkflowSignalEntity, EventShapeEntity, ExternalEventEntity, ScheduleEntity, ScheduleRunEntity],
    migrations: [
      CreateTasks1764000000000,
      AddTraceParent1764000000001,
      AddPlanHistory1764000000002,
      EngineCore1764000000003,
      ListingAndRetention1764000000004,
      TaskEvents1764000000005,
      DispatchQueue1764000000015,
      RunPolicies1764000000020,
      WorkflowsThatWait1764000000030,
      DelayedStart1764000000040,
      Schedules1764000000041,
    ],
    migrationsRun: false,
    synchronize: false,
    poolSize,
    extra: { connectionTimeoutMillis: 5_000 },
  };
}
