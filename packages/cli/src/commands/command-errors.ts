// How every command reports a failure: one line naming the command and what was wrong (a
// MeshError's location and hint included), exit code 1, no stack trace.
import { CommanderError } from 'commander';
import { MeshError } from '@tsmesh/core';

export const describeError = (err: unknown): string =>
  MeshError.is(err) ? err.describe() : err instanceof Error ? err.message : String(err);

/** Wraps a command body so that a failure becomes `<command>: <what was wrong>` and exit code 1. */
export function guarded<A extends unknown[]>(
  command: string,
  err: (line: string) => void,
  body: (...args: A) => void | Promise<void>,
) {
  return async (...args: A): Promise<void> => {
    try {
      await body(...args);
    } catch (e) {
      if (e instanceof CommanderError) throw e;
      const message = `${command}: ${describeError(e)}`;
      err(message);
      throw new CommanderError(1, command.replace(/ /g, '.'), message);
    }
  };
}
