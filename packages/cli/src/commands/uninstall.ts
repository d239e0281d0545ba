// `tsmesh uninstall`: the objects install created (control plane, cluster RBAC, webhook
// configurations, CRDs), as references for `tsmesh uninstall | kubectl delete -f -`.
import type { Command } from 'commander';
import { uninstallManifests } from '../install/index.js';
import { guarded } from './command-errors.js';
import { formatOutput } from './install.js';

export function registerUninstallCommand(
  program: Command,
  out: (text: string) => void,
  err: (text: string) => void,
): void {
  program
    .command('uninstall')
    .description('Print what install created (for kubectl delete)')
    .option('--controller-namespace <ns>', 'namespace of the control plane', 'linkerd')
    .option('--keep-crds', 'leave the CustomResourceDefinitions (and so every policy object) in place')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .action(
      guarded(
        'uninstall',
        err,
        (flags: { controllerNamespace: string; keepCrds?: boolean; output?: string }) => {
          out(
            formatOutput(
              uninstallManifests(flags.controllerNamespace, { crds: !flags.keepCrds }),
              flags.output,
            ),
          );
        },
      ),
    );
}
