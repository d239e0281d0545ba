// `tsmesh viz tap` / `viz top`: registered here; not built yet (see the viz README).
import type { Command } from 'commander';

export function registerVizTapCommands(
  _viz: Command,
  _out: (line: string) => void,
  _err: (line: string) => void,
): void {}
