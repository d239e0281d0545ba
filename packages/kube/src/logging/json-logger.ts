// The JSON-lines logger controller binaries create (libraries take a Logger and never make one):
// one object per line, pino's field names (level as a number, time in ms, msg).
import type { Logger } from './logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export function createJsonLogger(
  minLevel: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
  /** Fields every line carries (e.g. the binary's `name`), before the call's own. */
  base: Readonly<Record<string, unknown>> = {},
): Logger {
  const log =
    (level: LogLevel) =>
    (fields: Record<string, unknown>, msg: string): void => {
      if (ORDER[level] < ORDER[minLevel]) return;
      write(`${JSON.stringify({ level: ORDER[level], time: Date.now(), ...base, ...fields, msg })}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
