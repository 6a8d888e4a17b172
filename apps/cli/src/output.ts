import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/** Where a command writes: standard output and error, whether output is a terminal, and the colours for it. */
export interface Output {
  /** One or more lines on standard output. */
  line(...lines: string[]): void;
  /** One or more lines on standard error. */
  error(...lines: string[]): void;
  /** One JSON document on standard output (a `--json` answer). */
  json(document: unknown): void;
  /** Text as it is, without a newline (the live display's redraws). */
  write(text: string): void;
  readonly isTTY: boolean;
  readonly colors: Colors;
}

/**
 * Colours only for a terminal, and never when NO_COLOR is set to anything but the empty string
 * (https://no-color.org): piped output and logs stay plain text.
 */
export function colorsWanted(isTTY: boolean, env: Record<string, string | undefined>): boolean {
  return isTTY && !env['NO_COLOR'];
}

export interface StreamsLike {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
}

/** The output of the process (or of a test's streams). */
export function processOutput(streams: StreamsLike, env: Record<string, string | undefined>): Output {
  const isTTY = streams.stdout.isTTY === true;
  return {
    line: (...lines) => void streams.stdout.write(lines.map((l) => `${l}\n`).join('')),
    error: (...lines) => void streams.stderr.write(lines.map((l) => `${l}\n`).join('')),
    json: (document) => void streams.stdout.write(`${JSON.stringify(document, null, 2)}\n`),
    write: (text) => void streams.stdout.write(text),
    isTTY,
    colors: pc.createColors(colorsWanted(isTTY, env)),
  };
}
