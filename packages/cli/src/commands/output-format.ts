// The -o/--output flag of the commands: one of the formats a command prints, or a clear error.
import { MeshError, MeshErrorCode } from '@tsmesh/core';

/** The -o value when it is one of `allowed`; an error listing them otherwise. */
export function checkOutput<T extends string>(value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new MeshError(MeshErrorCode.InvalidArgument, `unknown output format "${value}"`, {
    where: '-o',
    hint: `use ${allowed.join(' or ')}`,
  });
}
