import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { CoreKinds } from '@tsmesh/kube';
import { connectKube } from '../check/index.js';
import { defaultValues } from '../install/index.js';
import { VERSION } from '../version.js';

interface VersionFlags {
  short?: boolean;
  client?: boolean;
  proxy?: boolean;
  kubeconfig?: string;
  context?: string;
  controllerNamespace: string;
}

/**
 * `tsmesh version`: the CLI's version and, unless --client, the control plane's (linkerdVersion in
 * linkerd-config); --proxy the proxy version `install` puts in the manifests.
 */
export function registerVersionCommand(program: Command, out: (line: string) => void): void {
  program
    .command('version')
    .description('Print the client and control plane versions')
    .option('--short', 'print only the version number')
    .option('--client', 'only the client version (no cluster access)')
    .option('--proxy', 'the proxy version installs use')
    .option('--kubeconfig <file>', 'kubeconfig (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('--controller-namespace <ns>', 'namespace of the control plane', 'linkerd')
    .action(async (opts: VersionFlags) => {
      if (opts.short) return out(VERSION);
      if (opts.proxy) {
        const proxy = defaultValues().proxy as { image: { version: string } };
        return out(`Proxy version: ${proxy.image.version || VERSION}`);
      }
      out(`Client version: ${VERSION}`);
      if (opts.client) return;
      out(`Server version: ${await serverVersion(opts)}`);
    });
}

async function serverVersion(opts: VersionFlags): Promise<string> {
  try {
    const client = connectKube(opts);
    try {
      const cm = await client.get<{ data?: Record<string, string> } & never>(CoreKinds.ConfigMap, {
        namespace: opts.controllerNamespace,
        name: 'linkerd-config',
      });
      const values = parseYaml((cm as { data?: Record<string, string> }).data?.values ?? '') as {
        linkerdVersion?: string;
      } | null;
      return values?.linkerdVersion ?? 'unavailable';
    } finally {
      client.close();
    }
  } catch {
    return 'unavailable';
  }
}
