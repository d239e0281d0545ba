import type { Command } from 'commander';
import { VERSION } from '../version.js';

/** `tsmesh version`: the CLI's version (the control plane's arrives with `install`). */
export function registerVersionCommand(program: Command, out: (line: string) => void): void {
  program
    .command('version')
    .description('Print the tsmesh CLI version')
    .option('--short', 'print only the version number')
    .action((opts: { short?: boolean }) => {
      out(opts.short ? VERSION : `Client version: ${VERSION}`);
    });
}
