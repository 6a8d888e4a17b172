import type { HistoryBatch, TaskProgressView } from '@orchestrator/contracts';
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
  traceparent: string | null;
}

/** Work that follows a committed transition: messages to publish, slots to free. Never done before the commit. */
export type Effect =
  | ({ kind: 'dispatch' } & Dispatch)
  | { kind: 'cancel'; agent: string; subtaskId: string }
  | { kind: 'release'; agent: string; subtaskId: string }
  /** A workflow started: its lifecycle events. */
  | { kind: 'started'; root: RootRow }
  | { kind: 'finish'; root: RootRow }
  /** Ask the planner for a revised plan of this workflow. */
  | { kind: 'revise'; rootId: string }
  | ({ kind: 'progress'; taskId: string; stepKey: string; status: string } & TaskProgressView)
  /** The workflow's history rows this commit added, for the stream clients of every replica. */
  | { kind: 'history'; batch: HistoryBatch };
