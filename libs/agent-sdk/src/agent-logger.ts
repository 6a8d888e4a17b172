export interface AgentLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Console lines prefixed with the agent's name. */
export function consoleLogger(prefix: string): AgentLogger {
  return {
    log: (message) => console.log(`[${prefix}] ${message}`),
    warn: (message) => console.warn(`[${prefix}] ${message}`),
    error: (message) => console.error(`[${prefix}] ${message}`),
  };
}
