// Logging: the Logger interface is @tsmesh/kube's (pino's shape: fields first, then the message);
// the binary's JSON logger is created here and nowhere else.
import type { Logger } from '@tsmesh/kube';

export { silentLogger, type Logger } from '@tsmesh/kube';

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
