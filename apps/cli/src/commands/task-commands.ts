import type { Command } from 'commander';
import type { HistoryEvent, TaskListView } from '@orchestrator/contracts';
import { newTaskId, parsePayload, parsePriority, parseStatus, parseTaskType, parseTime, parseWholeNumber } from '../args.js';
import { renderEventLine } from '../format/history-line.js';
import { renderTaskList } from '../format/lists.js';
import { renderTaskTree } from '../format/task-tree.js';
import { watchAndReport } from '../watch/watch-task.js';
import type { CommandContext } from './command-context.js';

interface JsonOption {
  json?: boolean;
}

/** submit, watch, get, list, cancel, retry, rerun and events: the commands about tasks. */
export function addTaskCommands(program: Command, context: CommandContext): void {
  program
    .command('submit')
    .description('submit a task; with --watch, follow its steps until it ends (exit 0 when it completes, 1 otherwise)')
    .argument('<task_type>', 'the workflow to run, e.g. create_blog_post')
    .option('-p, --payload <json>', "the payload, a JSON object ('@file' reads a file, '@-' standard input)", '{}')
    .option('--task-id <id>', 'the task id (default: the task type and a random suffix)')
    .option('--priority <priority>', 'LOW, NORMAL, HIGH or CRITICAL')
    .option('--timeout-ms <ms>', 'the whole task must finish within this many milliseconds')
    .option('--not-before <time>', 'store it now and start it then: ISO 8601, seconds since the epoch, or +10m (s, m, h, d)')
    .option('-w, --watch', 'follow its steps live until it ends')
    .option('--json', 'print one JSON document (with --watch: the task as it ended)')
    .action(async (taskType: string, options: { payload: string; taskId?: string; priority?: string; timeoutMs?: string; notBefore?: string; watch?: boolean } & JsonOption) => {
      const request = {
        task_id: options.taskId ?? newTaskId(parseTaskType(taskType)),
        task_type: parseTaskType(taskType),
        payload: parsePayload(options.payload),
        ...(options.priority !== undefined ? { priority: parsePriority(options.priority) } : {}),
        ...(options.timeoutMs !== undefined ? { timeout_ms: parseWholeNumber('--timeout-ms', options.timeoutMs) } : {}),
        ...(options.notBefore !== undefined ? { not_before: parseTime('--not-before', options.notBefore).getTime() / 1000 } : {}),
      };
      await context.withClient(async (client, out) => {
        const submitted = await client.submit(request);
        if (options.watch) {
          if (!options.json) out.line(submitted.existing ? `${submitted.task_id}: a known request, ${submitted.status}` : `submitted ${submitted.task_id}`);
          await watchAndReport(client, submitted.task_id, out, { json: options.json === true });
        } else if (options.json) out.json(submitted);
        else out.line(submitted.existing ? `${submitted.task_id}: a known request, ${submitted.status}` : `submitted ${submitted.task_id} (${submitted.status})`);
      });
    });

  program
    .command('watch')
    .description("follow a task's steps live until it ends (exit 0 when it completes, 1 otherwise)")
    .argument('<task_id>')
    .option('--json', 'print the task as it ended, one JSON document')
    .action(async (taskId: string, options: JsonOption) => {
      await context.withClient((client, out) => watchAndReport(client, taskId, out, { json: options.json === true }));
    });

  program
    .command('get')
    .description('a task and its steps as a tree: status, agent, attempts, duration; for_each items under their step')
    .argument('<task_id>')
    .option('--json', 'print the task as the API gives it, one JSON document')
    .action(async (taskId: string, options: JsonOption) => {
      await context.withClient(async (client, out) => {
        const task = await client.get(taskId);
        if (options.json) out.json(task);
        else out.line(...renderTaskTree(task, out.colors));
      });
    });

  program
    .command('list')
    .description('tasks, newest first, a page at a time')
    .option('--status <status>', 'only tasks with this status (PENDING, QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED)')
    .option('--type <task_type>', 'only tasks of this task type')
    .option('--limit <n>', 'tasks per page, 1 to 100', '20')
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .option('--count', 'also count every task that matches (a scan: ask only when needed)')
    .option('--json', 'print the page as the API gives it, one JSON document')
    .action(async (options: { status?: string; type?: string; limit: string; cursor?: string; count?: boolean } & JsonOption) => {
      const filter = {
        limit: parseWholeNumber('--limit', options.limit),
        ...(options.status !== undefined ? { status: parseStatus(options.status) } : {}),
        ...(options.type !== undefined ? { task_type: parseTaskType(options.type) } : {}),
        ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
        ...(options.count ? { count: true } : {}),
      };
      await context.withClient(async (client, out) => {
        const page: TaskListView = await client.list(filter);
        if (options.json) out.json(page);
        else out.line(...renderTaskList(page, out.colors));
      });
    });

  program
    .command('cancel')
    .description('cancel a running task')
    .argument('<task_id>')
    .option('--json', 'print the answer, one JSON document')
    .action(async (taskId: string, options: JsonOption) => {
      await context.withClient(async (client, out) => {
        const reply = await client.cancel(taskId);
        if (options.json) out.json(reply);
        else out.line(`${reply.task_id} ${reply.status}`);
      });
    });

  program
    .command('retry')
    .description('run a FAILED or CANCELLED task again from its unfinished steps (completed steps keep their results)')
    .argument('<task_id>')
    .option('-w, --watch', 'follow its steps live until it ends')
    .option('--json', 'print the answer (with --watch: the task as it ended), one JSON document')
    .action(async (taskId: string, options: { watch?: boolean } & JsonOption) => {
      await context.withClient(async (client, out) => {
        const reply = await client.retry(taskId);
        if (!options.watch && options.json) out.json(reply);
        else if (!options.json) out.line(`${reply.task_id} ${reply.status} again`);
        if (options.watch) await watchAndReport(client, reply.task_id, out, { json: options.json === true });
      });
    });

  program
    .command('rerun')
    .description("run a finished task's request again under a new task id")
    .argument('<task_id>')
    .option('-w, --watch', 'follow the new task live until it ends')
    .option('--json', 'print the answer (with --watch: the new task as it ended), one JSON document')
    .action(async (taskId: string, options: { watch?: boolean } & JsonOption) => {
      await context.withClient(async (client, out) => {
        const reply = await client.rerun(taskId);
        if (!options.watch && options.json) out.json(reply);
        else if (!options.json) out.line(`rerun of ${reply.rerun_of}: ${reply.task_id} ${reply.status}`);
        if (options.watch) await watchAndReport(client, reply.task_id, out, { json: options.json === true });
      });
    });

  program
    .command('events')
    .description("a task's history, oldest first: every dispatch, answer, retry, progress report and the end")
    .argument('<task_id>')
    .option('--after <id>', 'only the events after this event id')
    .option('--json', 'print { items: [...] }, one JSON document')
    .action(async (taskId: string, options: { after?: string } & JsonOption) => {
      let after = options.after === undefined ? undefined : parseWholeNumber('--after', options.after, 0);
      await context.withClient(async (client, out) => {
        const items: HistoryEvent[] = [];
        for (;;) {
          const page = await client.history(taskId, { limit: 1000, ...(after !== undefined ? { after } : {}) });
          items.push(...page.items);
          if (page.next_after === null) break;
          after = page.next_after;
        }
        if (options.json) out.json({ items });
        else out.line(...(items.length > 0 ? items.map((event) => renderEventLine(event, out.colors)) : ['no events']));
      });
    });
}
