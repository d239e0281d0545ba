// Durations as written in Linkerd's configuration (proxy environment, Helm values, CLI flags):
// a number and a unit, optionally several in a row as Go writes them (`1h30m`). One parser for the
// whole mesh; each caller turns `undefined` into its own error (a config variable, a flag).

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** What `parseDurationMs` accepts, for error messages. */
export const DURATION_SYNTAX = 'a duration such as 100ms, 10s, 2m, 1h (units ms, s, m, h, d)';

export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

export interface ParseDurationOptions {
  /** Units allowed; default all. Go-style settings (Helm values, control-plane flags) have no `d`. */
  readonly units?: readonly DurationUnit[];
}

/** Milliseconds (rounded), or undefined when `text` is not a duration. `0` needs no unit. */
export function parseDurationMs(text: string, options: ParseDurationOptions = {}): number | undefined {
  if (text === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  let end = 0;
  let m: RegExpExecArray | null;
  while ((m = PART.exec(text))) {
    if (options.units && !options.units.includes(m[2] as DurationUnit)) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    end = PART.lastIndex;
  }
  if (end === 0 || end !== text.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}
