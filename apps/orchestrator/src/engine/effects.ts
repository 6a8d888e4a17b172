import type { HistoryBatch } from '@orchestrator/contracts';
import type { Claim, QueueKey } from '../delegation/dispatch-queue.service.js';
import type { RootRow } from '../persistence/task-rows.js';

/** A sub-task ready to publish: its JSON already encoded (and measured against the server's limit). */
export interface Dispatch {
  agent: string;
  /** The TaskRequest, as JSON bytes. */
  data: Uint8Array;
  subtaskId: string;
  rootTaskId: string;
  stepKey: string;
  attempt: number;
  /** For a `workflow:` step: the depth the workflow it starts runs at. */
  depth: number | null;
  /** The key the workflow's steps take turns by (a `workflow:` step's child takes it too). */
  fairnessKey: string;
  traceparent: string | null;
}

/** Work that follows a committed transition: messages to publish, slots to free. Never done before the commit. */
export type Effect =
  | ({ kind: 'dispatch' } & Dispatch)
  | { kind: 'cancel'; agent: string; subtaskId: string }
  | { kind: 'release'; agent: string; subtaskId: string }
  /** Steps of other workflows popped into slots from their lines: each is dispatched by a transition of its own. */
  | { kind: 'claimed'; claims: Claim[] }
  /** A step that waited in a line stopped waiting. */
  | { kind: 'unqueue'; queue: QueueKey; member: string }
  /** A delayed workflow was stored: `task_created`, PENDING. */
  | { kind: 'created'; root: RootRow }
  /** A workflow started: its lifecycle events (`task_created` too unless it was announced when stored). */
  | { kind: 'started'; root: RootRow; announced?: boolean }
  | { kind: 'finish'; root: RootRow }
  /** Ask the planner for a revised plan of this workflow. */
  | { kind: 'revise'; rootId: string }
  | { kind: 'progress'; taskId: string; stepKey: string; status: string; done: number; total: number }
  /** The workflow's history rows this commit added, for the stream clients of every replica. */
  | { kind: 'history'; batch: HistoryBatch }
  /** QUEUED runs of a concurrency key marked for a look: start them if their key has room. */
  | { kind: 'admit'; rootIds: string[] }
  /** Runs superseded by a newer one of their concurrency key (`cancel_in_progress`): cancel them. */
  | { kind: 'supersede'; rootIds: string[]; reason: string };
