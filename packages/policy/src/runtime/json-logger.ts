// The binary's logger: one JSON object per line on stderr (pino-compatible level numbers).
import type { Logger } from '@tsmesh/kube';

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export function createPolicyLogger(minLevel: keyof typeof LEVELS): Logger {
  const at =
    (level: keyof typeof LEVELS) =>
    (fields: Record<string, unknown>, msg: string): void => {
      if (LEVELS[level] >= LEVELS[minLevel])
        process.stderr.write(
          `${JSON.stringify({ level: LEVELS[level], time: Date.now(), name: 'tsmesh-policy', ...fields, msg })}\n`,
        );
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
