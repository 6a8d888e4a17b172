/** What happened to a workflow, one kind per event of its history (`GET /tasks/:task_id/events`, the streams). */
export enum HistoryKind {
  /** The request was accepted. */
  Submitted = 'submitted',
  /** Its plan was stored: `data.version`, `data.revision`, `data.steps`. */
  Planned = 'planned',
  /** An attempt of a step was sent: `data.agent`, `data.attempt`. */
  Dispatched = 'dispatched',
  /** An agent answered an attempt: `data.status`, `data.attempt`, `data.error` when it failed. */
  Answered = 'answered',
  /** A failed attempt will be tried again: `data.attempt` (the next one), `data.backoff_ms`, `data.error`. */
  Retried = 'retried',
  /** An attempt got no answer in time: `data.agent`, `data.attempt`, `data.timeout_ms`. */
  TimedOut = 'timed_out',
  /** A step whose `when` was false: `data.when`. */
  Skipped = 'skipped',
  /** A `for_each` step's list: `data.items`. */
  Expanded = 'expanded',
  /** A step failed for good: `data.error`. */
  StepFailed = 'step_failed',
  /** A step completed without an answer of its own: a `for_each` step (its items answer one by one), a wait given its signal or event (`data.signal`, `data.event`). */
  StepCompleted = 'step_completed',
  /** An agent reported progress inside an attempt: `data.fraction`, `data.message`, `data.attempt`. */
  Progress = 'progress',
  /** A step failed for good and the planner is asked for a revised plan: `data.error`. */
  RevisionRequested = 'revision_requested',
  /** A revised plan runs: `data.revision`, `data.kept`, `data.steps`. */
  Revised = 'revised',
  /** A FAILED or CANCELLED workflow resumes from its unfinished steps: `data.was`, `data.steps`. */
  Resumed = 'resumed',
  /** A step began to wait: `data.signal`, or `data.event` and `data.match`, or `data.until`; `data.timeout_ms` when it may time out. */
  Waiting = 'waiting',
  /** A signal came: `data.signal`, `data.signal_id`, `data.by`, `data.via`; `data.kept` when no step waited for it yet. */
  SignalReceived = 'signal_received',
  /** An external event resumed a waiting step: `data.event`, `data.by`. */
  EventReceived = 'event_received',
  /** A sleep ended: `data.until`. */
  Woke = 'woke',
  Cancelled = 'cancelled',
  Completed = 'completed',
  /** `data.error`. */
  Failed = 'failed',
  /** The final response was sent to the requester. */
  AnswerSent = 'answer_sent',
  /** The run waits QUEUED for a run of its concurrency key to end: `data.key`, `data.max_runs`, `data.running`. */
  Queued = 'queued',
  /** A QUEUED run starts (`data.key`, `data.queued_ms`), or a delayed one, its `not_before` come (`data.not_before`). */
  Started = 'started',
}

/** One event of a workflow's history, as stored, served and streamed. */
export interface HistoryEvent {
  /** Increasing: in one workflow, in the order the events were committed. */
  id: number;
  /** The workflow's task_id. */
  task_id: string;
  task_type: string;
  /** The step (or item, `step[i]`) it is about; null for the workflow itself. */
  step_id: string | null;
  kind: HistoryKind;
  /** The workflow's status once the event was committed. */
  status: string;
  /** ISO 8601. */
  at: string;
  data: Record<string, unknown> | null;
}

/**
 * What a replica publishes on `platform.events.history.<task_type>` after a commit: the events of
 * one workflow in that commit, and the id of the event that came before them in its history
 * (null for its first), so that a relay can tell when it missed some.
 */
export interface HistoryBatch {
  root_id: string;
  prev_id: number | null;
  events: HistoryEvent[];
}
