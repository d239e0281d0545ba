// The global cluster options of `tsmesh`, as kubectl and linkerd have them: --kubeconfig, --context
// and -n/--namespace, accepted before or after the subcommand. Commander lets the root command
// consume its own options wherever they appear, so a subcommand that declares an option of the
// same name (check -n, version --context, viz -n, run --namespace) would never see it; the
// preAction hook hands the value given on the command line to that subcommand's option.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';

export interface GlobalClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

const GLOBAL_OPTION_NAMES = ['kubeconfig', 'context', 'namespace'] as const;

export function addGlobalClusterOptions(program: Command): void {
  program
    .option('--kubeconfig <file>', 'kubeconfig to use (default $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', "namespace of the resource (default: the context's namespace)")
    .hook('preAction', (root, action) => {
      for (const name of GLOBAL_OPTION_NAMES) {
        if (root.getOptionValueSource(name) !== 'cli') continue;
        if (action === root) continue;
        if (action.options.some((o) => o.attributeName() === name)) {
          action.setOptionValueWithSource(name, root.getOptionValue(name), 'cli');
        }
      }
    });
}

/** The global options as the running subcommand sees them (its own values win). */
export function globalClusterFlags(command: Command): GlobalClusterFlags {
  const all = command.optsWithGlobals<GlobalClusterFlags>();
  return { kubeconfig: all.kubeconfig, context: all.context, namespace: all.namespace };
}

/** -n, else the namespace of the kubeconfig's current context, else `default` (kubectl's rule). */
export function resolveNamespace(flags: GlobalClusterFlags, kubeConfig: KubeConfig): string {
  if (flags.namespace) return flags.namespace;
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  return context?.namespace || 'default';
}
