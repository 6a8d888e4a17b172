import type { OrchestratorClient } from '@orchestrator/client';

/**
 * What a terminal would take as a command rather than text: C0 controls but newline and tab (ESC
 * starts colour, cursor, title and clipboard sequences; CR rewrites a line), DEL, the C1 controls
 * (U+009B is a CSI on some terminals), and the bidirectional overrides that reorder what is shown.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with each control character shown as its escape (`\x1b`, `\u202e`): printed, it is only text. */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A copy of a JSON value with every string (and key) made terminal-safe. */
export function terminalSafeValue<T>(value: T): T {
  if (typeof value === 'string') return terminalSafe(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => terminalSafeValue(item)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [terminalSafe(key), terminalSafeValue(item)])) as T;
  }
  return value;
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  value !== null && typeof value === 'object' && Symbol.asyncIterator in value;

async function* terminalSafeItems(items: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  for await (const item of items) yield terminalSafeValue(item);
}

/**
 * The client, with everything it reads from the orchestrator made terminal-safe before a command
 * prints it: agents' errors, results and progress messages are anyone's text, and a terminal
 * must not run what they hold. Errors it throws are printed through terminalSafe too (runCli).
 */
export function terminalSafeClient(client: OrchestratorClient): OrchestratorClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      const member: unknown = Reflect.get(target, property, receiver);
      if (typeof member !== 'function' || property === 'close') return member;
      return (...args: unknown[]): unknown => {
        const answer: unknown = (member as (...a: unknown[]) => unknown).apply(target, args);
        if (answer instanceof Promise) return answer.then((value: unknown) => terminalSafeValue(value));
        return isAsyncIterable(answer) ? terminalSafeItems(answer) : answer;
      };
    },
  });
}
