// The frame every controller binary shares: parse flags (bad flags: exit 2 naming the flag; --help:
// usage, exit 0), create the logger and the metrics registry (the only place that does), serve
// until SIGINT or SIGTERM, and exit 0 after a clean stop or 1 when start-up fails, with the reason
// on stderr and in the log.
import { MeshError } from '@tsmesh/core';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createJsonLogger, type Logger, type LogLevel } from '../logging/index.js';

export interface ControllerContext {
  readonly logger: Logger;
  readonly registry: Registry;
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
}

export interface ControllerMain<C> {
  /** The binary's name, prefixed to what it writes on stderr. */
  readonly program: string;
  /** Parses the flags; throws a MeshError naming the bad one. */
  parse(): C | { help: string };
  logLevel(config: C): LogLevel;
  /** Fields every log line carries (e.g. `{ name: program }`); none by default. */
  readonly logFields?: Readonly<Record<string, unknown>>;
  /** Serves until `context.signal` aborts, then returns after closing what it opened. */
  serve(config: C, context: ControllerContext): Promise<void>;
}

/** A start-up failure as one line: a MeshError's description, or the error's message. */
export function describeFailure(err: unknown): string {
  if (MeshError.is(err)) return err.describe();
  return err instanceof Error ? err.message : String(err);
}

/** Resolves once `signal` aborts (at once when it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Runs a controller binary; resolves with its exit code. */
export async function runControllerMain<C>(main: ControllerMain<C>): Promise<number> {
  let config: C | { help: string };
  try {
    config = main.parse();
  } catch (err) {
    process.stderr.write(`${main.program}: ${MeshError.is(err) ? err.describe() : String(err)}\n`);
    return 2;
  }
  if (typeof config === 'object' && config !== null && 'help' in config) {
    process.stdout.write((config as { help: string }).help);
    return 0;
  }
  const settled = config as C;
  const logger = createJsonLogger(main.logLevel(settled), undefined, main.logFields);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const stop = new AbortController();
  const onSignal = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    stop.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  try {
    await main.serve(settled, { logger, registry, signal: stop.signal });
    return 0;
  } catch (err) {
    const message = describeFailure(err);
    logger.error({ error: message }, 'could not start');
    process.stderr.write(`${main.program}: ${message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
