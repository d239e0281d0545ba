// The logging surface the identity service's components take. pino's Logger satisfies it; tests
// pass a recording one. Components never create a logger themselves.
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/** One JSON object per line on a stream (what the binary uses; pino-compatible field names). */
export function createJsonLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
  minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info',
): Logger {
  const order = { debug: 20, info: 30, warn: 40, error: 50 } as const;
  const log =
    (level: keyof typeof order) =>
    (fields: Record<string, unknown>, msg: string): void => {
      if (order[level] < order[minLevel]) return;
      write(`${JSON.stringify({ level: order[level], time: Date.now(), ...fields, msg })}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
