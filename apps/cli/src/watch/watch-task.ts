import type { OrchestratorClient } from '@orchestrator/client';
import { HistoryKind, TaskStatus, type TaskDetailView } from '@orchestrator/contracts';
import { CommandFailed, EXIT_FAILURE } from '../cli-error.js';
import { formatDuration } from '../format/duration.js';
import type { Output } from '../output.js';
import { terminalSafe } from '../terminal-safe.js';
import { isFinalEvent, StepBoard } from './step-board.js';

/** How often the live display may redraw, and how often it ticks to move the clocks on. */
const REDRAW_MS = 100;
const TICK_MS = 500;

/**
 * The board redrawn in place on a terminal: the cursor goes back up over the lines drawn last and
 * they are drawn again, at most every REDRAW_MS.
 */
class LiveView {
  private drawn = 0;
  private pending: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly out: Output,
    private readonly board: StepBoard,
  ) {
    this.ticker = setInterval(() => this.update(), TICK_MS);
    this.ticker.unref();
  }

  update(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.draw();
    }, REDRAW_MS);
  }

  /** The last drawing, left on the screen. */
  stop(): void {
    clearInterval(this.ticker);
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    this.draw();
  }

  private draw(): void {
    const lines = this.board.render(this.out.colors);
    // Up to the first line drawn last time (column 1), then clear to the end of the screen.
    const back = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[J` : '';
    this.out.write(`${back}${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}

/**
 * True when the history goes on after the final event `eventId` (a retry resumed the task): the
 * stream then still has those events to give. The final answer being sent does not count.
 */
async function resumedSince(client: OrchestratorClient, taskId: string, eventId: number): Promise<boolean> {
  const page = await client.history(taskId, { after: eventId, limit: 10 });
  return page.items.some((event) => event.kind !== HistoryKind.AnswerSent);
}

export interface WatchOptions {
  /** Print nothing while watching: the caller prints the final state as JSON. */
  json: boolean;
}

/**
 * Follows a task's history stream until the task ends, showing its steps as they progress: redrawn
 * in place on a terminal, a line per event otherwise. A final event ends the watch unless the
 * history goes on after it (a retry resumed the task). Returns the task as it ended.
 */
export async function watchTask(client: OrchestratorClient, taskId: string, out: Output, options: WatchOptions): Promise<TaskDetailView> {
  const board = new StepBoard(taskId);
  const abort = new AbortController();
  const live = out.isTTY && !options.json ? new LiveView(out, board) : null;
  try {
    const stream = client.stream({
      taskId,
      signal: abort.signal,
      onReconnect: (reason, attempt) => out.error(`connection lost (${terminalSafe(reason instanceof Error ? reason.message : String(reason))}); reconnecting, try ${attempt}`),
    });
    for await (const event of stream) {
      const line = board.apply(event);
      if (live) live.update();
      else if (line !== null && !options.json) out.line(line);
      if (!isFinalEvent(event) || (await resumedSince(client, taskId, event.id))) continue;
      return await client.get(taskId);
    }
    throw new Error(`the stream of task ${taskId} ended before the task did`);
  } finally {
    abort.abort();
    live?.stop();
  }
}

/** Watches a task, then says how it ended; a task that did not complete exits 1. */
export async function watchAndReport(client: OrchestratorClient, taskId: string, out: Output, options: WatchOptions): Promise<void> {
  const task = await watchTask(client, taskId, out, options);
  if (options.json) out.json(task);
  else {
    const { colors } = out;
    const took = task.completed_at === null ? '' : ` in ${formatDuration(Date.parse(task.completed_at) - Date.parse(task.created_at))}`;
    const color = task.status === TaskStatus.Completed ? colors.green : task.status === TaskStatus.Failed ? colors.red : colors.yellow;
    out.line(color(`${task.task_id} ${task.status}${took}`));
    if (task.error) out.line(colors.red(`error: ${task.error}`));
    const output = task.result?.['output'];
    if (task.status === TaskStatus.Completed && output !== undefined) out.line(`output: ${JSON.stringify(output)}`);
  }
  if (task.status !== TaskStatus.Completed) throw new CommandFailed(`task ${taskId} ended ${task.status}`, EXIT_FAILURE);
}
