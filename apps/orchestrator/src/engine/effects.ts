import type { Dispatch } from '../delegation/delegation.service.js';
import type { TaskEntity } from '../persistence/task.entity.js';

/** Work that follows a committed transition: messages to publish. Never done before the commit. */
export type Effect =
  | ({ kind: 'dispatch' } & Dispatch)
  | { kind: 'cancel'; agent: string; subtaskId: string }
  | { kind: 'release'; agent: string; subtaskId: string }
  | { kind: 'finish'; root: TaskEntity }
  /** Ask the planner for a revised plan of this workflow. */
  | { kind: 'revise'; rootId: string }
  | { kind: 'progress'; root: TaskEntity; stepKey: string; status: string; done: number; total: number };
