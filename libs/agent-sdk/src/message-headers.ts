/** Set by the orchestrator on every sub-task it dispatches. */
export const ATTEMPT_HEADER = 'orchestrator-attempt';

/** No headers: one shared record, so that a message without any costs nothing. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** The trace headers to hand on (none: one shared empty record), and the attempt when the header gives a positive integer. */
export function readHeaders(incoming: Readonly<Record<string, string>>): { trace: Readonly<Record<string, string>>; attempt: number | undefined } {
  let trace: Record<string, string> | undefined;
  let attempt: number | undefined;
  for (const key in incoming) {
    const lower = key.toLowerCase();
    if (lower.startsWith('traceparent') || lower.startsWith('tracestate')) (trace ??= {})[key] = incoming[key];
    else if (lower === ATTEMPT_HEADER && attempt === undefined) {
      const value = Number(incoming[key]);
      attempt = Number.isSafeInteger(value) && value > 0 ? value : 0;
    }
  }
  return { trace: trace ?? NO_HEADERS, attempt: attempt === 0 ? undefined : attempt };
}

