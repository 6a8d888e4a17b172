import type { Command } from 'commander';
import type { ScheduleInput, SchedulePatchInput } from '@orchestrator/client';
import { OverlapPolicy } from '@orchestrator/contracts';
import { parsePayload, parsePriority, parseTaskType, parseTime, parseWholeNumber } from '../args.js';
import { UsageError } from '../cli-error.js';
import { renderSchedule, renderSchedules, timingText } from '../format/schedules.js';
import type { CommandContext } from './command-context.js';

interface JsonOption {
  json?: boolean;
}

/** The options that set a schedule's fields, for create and update. */
interface FieldOptions {
  payload?: string;
  cron?: string;
  everyMs?: string;
  timezone?: string;
  overlap?: string;
  catchupWindowMs?: string;
  priority?: string;
  paused?: boolean;
}

const OVERLAPS = Object.values(OverlapPolicy) as string[];

function withFieldOptions(command: Command): Command {
  return command
    .option('-p, --payload <json>', "each run's payload, a JSON object ('@file' reads a file)")
    .option('--cron <expression>', "5 fields, or 6 with seconds first, or @hourly, @daily… (quote it: '0 30 8 * * 1-5')")
    .option('--every-ms <ms>', 'ticks on the multiples of this many milliseconds since the epoch (at least 1000)')
    .option('--timezone <zone>', 'IANA time zone of the cron expression (default UTC)')
    .option('--overlap <policy>', `when a tick comes while the last run runs: ${OVERLAPS.join(', ')}`)
    .option('--catchup-window-ms <ms>', 'ticks missed while no replica ran are caught up if no older than this')
    .option('--priority <priority>', 'LOW, NORMAL, HIGH or CRITICAL')
    .option('--json', 'print the schedule, one JSON document');
}

/** The fields the options give (only those given). */
function fieldsOf(options: FieldOptions): SchedulePatchInput {
  if (options.overlap !== undefined && !OVERLAPS.includes(options.overlap.toLowerCase())) {
    throw new UsageError(`--overlap: must be one of ${OVERLAPS.join(', ')}, not "${options.overlap}"`);
  }
  return {
    ...(options.payload !== undefined ? { payload: parsePayload(options.payload) } : {}),
    ...(options.cron !== undefined ? { cron: options.cron } : {}),
    ...(options.everyMs !== undefined ? { every_ms: parseWholeNumber('--every-ms', options.everyMs) } : {}),
    ...(options.timezone !== undefined ? { timezone: options.timezone } : {}),
    ...(options.overlap !== undefined ? { overlap: options.overlap.toLowerCase() as OverlapPolicy } : {}),
    ...(options.catchupWindowMs !== undefined ? { catchup_window_ms: parseWholeNumber('--catchup-window-ms', options.catchupWindowMs) } : {}),
    ...(options.priority !== undefined ? { priority: parsePriority(options.priority) } : {}),
    ...(options.paused !== undefined ? { paused: options.paused } : {}),
  };
}

/** `orchestrator schedules list|get|create|update|delete|pause|resume|trigger|backfill`. */
export function addScheduleCommands(program: Command, context: CommandContext): void {
  const schedules = program.command('schedules').description('workflows started at times: list, get, create, update, delete, pause, resume, trigger, backfill');

  schedules
    .command('list', { isDefault: true })
    .description('every schedule: when it runs, its next tick, its last run')
    .option('--json', 'print { items: [...] }, one JSON document')
    .action(async (options: JsonOption) => {
      await context.withClient(async (client, out) => {
        const items = await client.schedules.list();
        if (options.json) out.json({ items });
        else out.line(...renderSchedules(items, out.colors));
      });
    });

  schedules
    .command('get')
    .description('a schedule, its next ticks and its last runs')
    .argument('<schedule_id>')
    .option('--json', 'print the schedule, one JSON document')
    .action(async (scheduleId: string, options: JsonOption) => {
      await context.withClient(async (client, out) => {
        const schedule = await client.schedules.get(scheduleId);
        if (options.json) out.json(schedule);
        else out.line(...renderSchedule(schedule, out.colors));
      });
    });

  withFieldOptions(schedules.command('create').description('create a schedule (give --cron or --every-ms)').argument('<schedule_id>').argument('<task_type>'))
    .option('--paused', 'create it paused')
    .action(async (scheduleId: string, taskType: string, options: FieldOptions & JsonOption) => {
      const input: ScheduleInput = { schedule_id: scheduleId, task_type: parseTaskType(taskType), ...fieldsOf(options) };
      await context.withClient(async (client, out) => {
        const schedule = await client.schedules.create(input);
        if (options.json) out.json(schedule);
        else out.line(`created ${schedule.schedule_id}: ${timingText(schedule)}, next ${schedule.next_fire_at ?? '-'}`);
      });
    });

  withFieldOptions(schedules.command('update').description('change the fields given (--cron or --every-ms replaces the timing)').argument('<schedule_id>'))
    .option('--task-type <task_type>', 'the workflow its runs start')
    .action(async (scheduleId: string, options: FieldOptions & JsonOption & { taskType?: string }) => {
      const patch = { ...fieldsOf(options), ...(options.taskType !== undefined ? { task_type: parseTaskType(options.taskType) } : {}) };
      if (Object.keys(patch).length === 0) throw new UsageError('update: give at least one field to change (see --help)');
      await context.withClient(async (client, out) => {
        const schedule = await client.schedules.update(scheduleId, patch);
        if (options.json) out.json(schedule);
        else out.line(`updated ${schedule.schedule_id}: ${timingText(schedule)}, next ${schedule.next_fire_at ?? '-'}`);
      });
    });

  schedules
    .command('delete')
    .description('delete a schedule (the runs it started go on)')
    .argument('<schedule_id>')
    .action(async (scheduleId: string) => {
      await context.withClient(async (client, out) => {
        await client.schedules.delete(scheduleId);
        out.line(`deleted ${scheduleId}`);
      });
    });

  for (const [name, paused] of [['pause', true], ['resume', false]] as const) {
    schedules
      .command(name)
      .description(paused ? 'pause a schedule: no tick fires until it is resumed' : 'resume a schedule from its next tick after now')
      .argument('<schedule_id>')
      .option('--json', 'print the schedule, one JSON document')
      .action(async (scheduleId: string, options: JsonOption) => {
        await context.withClient(async (client, out) => {
          const schedule = paused ? await client.schedules.pause(scheduleId) : await client.schedules.resume(scheduleId);
          if (options.json) out.json(schedule);
          else out.line(`${schedule.schedule_id} ${schedule.paused ? 'paused' : `resumed, next ${schedule.next_fire_at ?? '-'}`}`);
        });
      });
  }

  schedules
    .command('trigger')
    .description('run a schedule now, under its overlap policy')
    .argument('<schedule_id>')
    .option('--json', 'print the answer, one JSON document')
    .action(async (scheduleId: string, options: JsonOption) => {
      await context.withClient(async (client, out) => {
        const reply = await client.schedules.trigger(scheduleId);
        if (options.json) out.json(reply);
        else out.line(`${reply.task_id} ${reply.outcome}${reply.reason ? `: ${reply.reason}` : ''}`);
      });
    });

  schedules
    .command('backfill')
    .description('run every tick from --from to --to (both included) that has not run; asking again does nothing')
    .argument('<schedule_id>')
    .requiredOption('--from <time>', 'ISO 8601, seconds since the epoch, or -2h (s, m, h, d)')
    .requiredOption('--to <time>', 'the same; not in the future')
    .option('--json', 'print the answer, one JSON document')
    .action(async (scheduleId: string, options: { from: string; to: string } & JsonOption) => {
      const from = parseTime('--from', options.from);
      const to = parseTime('--to', options.to);
      await context.withClient(async (client, out) => {
        const reply = await client.schedules.backfill(scheduleId, from, to);
        if (options.json) out.json(reply);
        else out.line(`${reply.schedule_id}: ${reply.ticks} tick(s) from ${reply.from} to ${reply.to}: ${reply.started} started, ${reply.already} had run`);
      });
    });
}
