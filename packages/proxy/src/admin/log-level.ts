// The proxy's log filter (LINKERD2_PROXY_LOG syntax: `warn,linkerd=info,target=level`), readable
// and replaceable at run time through /proxy-log-level.
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';
import type { LogLevelControl } from './admin-server.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'off']);

/** Validates a filter: comma-separated `level` or `target=level` directives. */
export function parseLogFilter(filter: string): string {
  if (filter === '') throw new MeshError(MeshErrorCode.InvalidArgument, 'empty log filter');
  for (const directive of filter.split(',')) {
    const d = directive.trim();
    const level = d.includes('=') ? d.slice(d.lastIndexOf('=') + 1) : d;
    if (!LEVELS.has(level.toLowerCase())) {
      throw new MeshError(MeshErrorCode.InvalidArgument, `invalid log directive ${JSON.stringify(d)}`, {
        hint: 'use trace, debug, info, warn, error or off, optionally as target=level',
      });
    }
  }
  return filter;
}

export function createLogLevelControl(initial: string, onChange?: (filter: string) => void): LogLevelControl {
  let current = initial;
  return {
    get: () => current,
    set(filter) {
      current = parseLogFilter(filter);
      onChange?.(current);
    },
  };
}
