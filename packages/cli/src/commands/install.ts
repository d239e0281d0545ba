// `tsmesh install --crds` prints the CRDs; `tsmesh install` the control plane (Linkerd-shaped, see
// ../install/render-control-plane.ts), for `| kubectl apply -f -`. Trust anchors and issuer are
// generated unless given; so are the webhooks' serving certificates unless the values hold them.
// As `linkerd install --crds`, the CRD step looks at the cluster (unless --ignore-cluster) to decide
// about the Gateway API CRDs (../install/gateway-api.ts).
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { connectKube } from '../check/index.js';
import {
  formatDefaultValues,
  inspectGatewayApi,
  installCrdManifests,
  planGatewayApiCrds,
  resolveCrdValues,
  formatManifests,
  renderControlPlane,
  resolveInstallValues,
  VALUES_SCHEMA,
  type InstallFlags,
} from '../install/index.js';
import { guarded } from './command-errors.js';
import { globalClusterFlags } from './global-options.js';
import { checkOutput } from './output-format.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface InstallCommandFlags extends InstallFlags, CrdFlags {
  crds?: boolean;
  output?: string;
  printValues?: boolean;
  printValuesSchema?: boolean;
}

/** The flags install and upgrade share. */
export function addValuesOptions(command: Command): Command {
  return command
    .option(
      '--ha',
      "high availability: 3 replicas, anti-affinity, PodDisruptionBudgets, resources (Linkerd's values-ha)",
    )
    .option('--set <key=value>', 'set a value (repeatable), e.g. --set controllerReplicas=2', collect)
    .option('-f, --values <file>', 'values file, YAML or JSON (repeatable; later ones win)', collect)
    .option('--identity-trust-anchors-file <file>', 'PEM trust anchors (default: generated)')
    .option('--identity-issuer-certificate-file <file>', 'PEM issuer certificate, signed by the anchors')
    .option('--identity-issuer-key-file <file>', 'PEM issuer private key')
    .option('--identity-trust-domain <domain>', 'identity trust domain (default: the cluster domain)')
    .option('--cluster-domain <domain>', 'Kubernetes cluster domain (default cluster.local)')
    .option('--controller-namespace <ns>', 'namespace of the control plane', 'linkerd')
    .option('-o, --output <format>', 'yaml or json', 'yaml');
}

export function formatOutput(objects: readonly unknown[], output: string | undefined): string {
  if (output && checkOutput(output, ['yaml', 'json'] as const) === 'json')
    return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
  return formatManifests(objects);
}

export function registerInstallCommand(
  program: Command,
  out: (text: string) => void,
  err: (text: string) => void,
): void {
  const install = program
    .command('install')
    .description('Print the control plane (--crds: the CRDs) to apply')
    .option('--crds', 'print the CustomResourceDefinitions only (apply them first)');
  addCrdOptions(install)
    .option('--print-values', 'print the default values (the Helm chart values.yaml) and exit')
    .option('--print-values-schema', 'print the values JSON schema (values.schema.json) and exit');
  addValuesOptions(install).action(
    guarded('install', err, async (flags: InstallCommandFlags, command: Command) => {
      if (flags.printValuesSchema) {
        out(
          `${JSON.stringify({ $schema: 'https://json-schema.org/draft-07/schema#', title: 'tsmesh control plane values', ...VALUES_SCHEMA }, null, 2)}\n`,
        );
        return;
      }
      if (flags.printValues) {
        out(formatDefaultValues());
        return;
      }
      if (flags.crds) {
        out(await renderCrds(flags, command));
        return;
      }
      const namespace = flags.controllerNamespace ?? 'linkerd';
      const values = resolveInstallValues(flags);
      out(formatOutput(renderControlPlane(values, { namespace }), flags.output));
    }),
  );
}

/** The --crds step's Gateway API flags, shared by install and upgrade. */
export function addCrdOptions(command: Command): Command {
  return command
    .option(
      '--gateway-api',
      'with --crds: also the Gateway API HTTPRoute and GRPCRoute CRDs (--set installGatewayAPI=true)',
    )
    .option(
      '--ignore-cluster',
      'with --crds: do not look at the cluster for Gateway API CRDs (only the values decide)',
    );
}

export interface CrdFlags extends Pick<InstallFlags, 'values' | 'set'> {
  gatewayApi?: boolean;
  ignoreCluster?: boolean;
}

/**
 * The CRDs of this version (`install --crds`, `upgrade --crds`), the Gateway API ones decided from
 * the values and what the cluster has (gateway-api.ts).
 */
export async function renderCrds(flags: CrdFlags, command: Command): Promise<string> {
  const values = resolveCrdValues({
    values: flags.values,
    set: [...(flags.set ?? []), ...(flags.gatewayApi ? ['installGatewayAPI=true'] : [])],
  });
  let cluster;
  if (!flags.ignoreCluster) {
    const client = connectKube(globalClusterFlags(command));
    try {
      cluster = await inspectGatewayApi(client);
    } catch (cause) {
      throw new MeshError(
        MeshErrorCode.Unavailable,
        `cannot look for the Gateway API CRDs on the cluster at ${client.server}: ${cause instanceof Error ? cause.message : String(cause)}`,
        {
          cause,
          hint: 'pass --kubeconfig/--context, or --ignore-cluster to render without looking (the Gateway API CRDs are then included only with --set installGatewayAPI=true)',
        },
      );
    } finally {
      client.close();
    }
  }
  return formatManifests(installCrdManifests(planGatewayApiCrds(values, cluster)));
}
