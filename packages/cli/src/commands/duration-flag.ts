// A duration flag of the commands (--window, --interval, --time-window, …): the mesh's duration
// syntax (@tsmesh/core's parseDurationMs), with a lower bound, or a clear error naming the flag.
import { DURATION_SYNTAX, MeshError, MeshErrorCode, parseDurationMs } from '@tsmesh/core';

/**
 * A duration flag in milliseconds (undefined when not given). Bad text, or less than `minMs` (when
 * given; else not above 0), is a MeshError naming the flag: `bad duration "soon"`.
 */
export function durationFlag(text: string, flag: string, o?: { what?: string; minMs?: number }): number;
export function durationFlag(
  text: string | undefined,
  flag: string,
  o?: { what?: string; minMs?: number },
): number | undefined;
export function durationFlag(
  text: string | undefined,
  flag: string,
  o: { what?: string; minMs?: number } = {},
): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  const { minMs } = o;
  if (ms === undefined || (minMs === undefined ? ms <= 0 : ms < minMs)) {
    const least = minMs === undefined ? '' : minMs % 1000 === 0 ? `${minMs / 1000}s` : `${minMs}ms`;
    throw new MeshError(
      MeshErrorCode.InvalidArgument,
      `bad ${o.what ?? 'duration'} ${JSON.stringify(text)}`,
      {
        where: flag,
        hint: `use ${DURATION_SYNTAX}${least ? `, at least ${least}` : ''}`,
      },
    );
  }
  return ms;
}
