// `tsmesh check [--pre] [--proxy] [-n NS] [--wait DURATION] [-o json]`: Linkerd's checks against the
// cluster; exit code 1 when any check fails (warnings do not fail).
import { CommanderError, type Command } from 'commander';
import { MeshError, MeshErrorCode, parseDurationMs } from '@tsmesh/core';
import {
  connectKube,
  formatReport,
  meshCheckCategories,
  runChecks,
  type KubeConnectionFlags,
} from '../check/index.js';
import { guarded } from './command-errors.js';
import { checkOutput } from './output-format.js';

interface CheckFlags extends KubeConnectionFlags {
  pre?: boolean;
  proxy?: boolean;
  namespace?: string;
  controllerNamespace: string;
  wait: string;
  output: string;
}

export function registerCheckCommand(
  program: Command,
  out: (text: string) => void,
  err: (text: string) => void,
): void {
  program
    .command('check')
    .description('Check the cluster (--pre: before install) and the installed mesh')
    .option('--pre', 'only the checks that matter before installing')
    .option('--proxy', 'also check the data-plane proxies')
    .option('-n, --namespace <ns>', 'with --proxy: only this namespace')
    .option('--controller-namespace <ns>', 'namespace of the control plane', 'linkerd')
    .option('--wait <duration>', 'how long to wait for pods and proxies to become ready', '5m')
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--kubeconfig <file>', 'kubeconfig (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .action(
      guarded('check', err, async (flags: CheckFlags) => {
        const output = checkOutput(flags.output, ['table', 'json', 'basic'] as const);
        const waitMs = parseDurationMs(flags.wait);
        if (waitMs === undefined) {
          throw new MeshError(MeshErrorCode.InvalidArgument, `"${flags.wait}" is not a duration`, {
            where: '--wait',
            hint: 'e.g. 30s, 5m',
          });
        }
        let client: ReturnType<typeof connectKube> | undefined;
        const categories = meshCheckCategories({
          connect: () => (client = connectKube(flags)),
          controlPlaneNamespace: flags.controllerNamespace,
          pre: flags.pre ?? false,
          proxy: flags.proxy ?? false,
          dataPlaneNamespace: flags.namespace,
        });
        try {
          const report = await runChecks(categories, {
            waitMs,
            onProgress: output === 'json' ? undefined : (line) => err(line),
          });
          out(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
          if (!report.success) throw new CommanderError(1, 'check.failed', 'checks failed');
        } finally {
          client?.close();
        }
      }),
    );
}
