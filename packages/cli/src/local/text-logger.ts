// A Logger for people at a terminal: `HH:MM:SS level message key=value …`, one line each.
import type { Logger } from '@tsmesh/kube';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createTextLogger(
  write: (line: string) => void,
  minLevel: LogLevel = 'info',
  prefix = '',
): Logger {
  const log =
    (level: LogLevel) =>
    (fields: Record<string, unknown>, message: string): void => {
      if (ORDER[level] < ORDER[minLevel]) return;
      const time = new Date().toISOString().slice(11, 19);
      const extra = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      write(`${time} ${level.padEnd(5)} ${prefix}${message}${extra ? ` ${extra}` : ''}`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
