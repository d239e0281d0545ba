// `tsmesh multicluster install|link|unlink|allow|check|gateways|uninstall`: Linkerd's multicluster
// extension commands. Manifests go to stdout for `kubectl apply -f -` (unlink and uninstall print
// what to `kubectl delete -f -`), as `linkerd multicluster` does. `link` runs against the target
// cluster (--kubeconfig/--context) and its output is applied to the source cluster.
import { CommanderError, type Command } from 'commander';
import { MeshError, MeshErrorCode, MulticlusterKey, parseDurationMs, type LabelSelector } from '@tsmesh/core';
import { CoreKinds, MeshKinds, type KubeObject } from '@tsmesh/kube';
import {
  gatherLinkInput,
  listLocalMirrors,
  MULTICLUSTER_NAMESPACE,
  multiclusterChecks,
  parseLink,
  probeOnce,
  remoteAccessManifests,
  renderInstall,
  readMeshFacts,
  renderLink,
  type Link,
} from '@tsmesh/multicluster';
import {
  connectKube,
  formatReport,
  kubeClientFor,
  loadKubeConfig,
  runChecks,
  type KubeConnectionFlags,
} from '../check/index.js';
import { formatManifests } from '../install/index.js';
import { guarded } from './command-errors.js';
import { checkOutput } from './output-format.js';

interface CommonFlags extends KubeConnectionFlags {
  namespace: string;
}

const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function portFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `"${text}" is not a port`, { where: flag });
  }
  return n;
}

/** `k=v,k2=v2` (kubectl's equality selector) as a label selector. */
export function parseSelectorFlag(text: string, flag: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  for (const part of list(text)) {
    const m = /^([^=!]+)==?(.*)$/.exec(part);
    if (!m) {
      throw new MeshError(MeshErrorCode.InvalidArgument, `"${part}" is not key=value`, {
        where: flag,
        hint: 'e.g. mirror.linkerd.io/exported=true',
      });
    }
    matchLabels[m[1]!.trim()] = m[2]!.trim();
  }
  return { matchLabels, matchExpressions: [] };
}

const ref = (o: KubeObject) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  metadata: { name: o.metadata?.name, ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}) },
});

function kubeOptions(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'kubeconfig (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context');
}

interface InstallFlags extends CommonFlags {
  gateway: boolean;
  gatewayPort?: string;
  gatewayProbePort?: string;
  gatewayProbeSeconds?: string;
  gatewayServiceType: string;
  gatewayAllowedIdentities?: string;
  serviceAccountName?: string;
  linkerdNamespace: string;
  identityTrustDomain?: string;
  ignoreCluster?: boolean;
}

interface LinkFlags extends CommonFlags {
  clusterName?: string;
  linkerdNamespace: string;
  localLinkerdNamespace: string;
  gateway: boolean;
  gatewayAddresses?: string;
  gatewayPort?: string;
  apiServerAddress?: string;
  serviceAccountName?: string;
  selector?: string;
  remoteDiscoverySelector?: string;
  federatedServicesSelector?: string;
  logLevel: string;
  image?: string;
}

export function registerMulticlusterCommand(
  program: Command,
  out: (text: string) => void,
  err: (text: string) => void,
): void {
  const mc = program
    .command('multicluster')
    .alias('mc')
    .description('Link clusters: mirror services across clusters through gateways, with mutual TLS');

  kubeOptions(
    mc
      .command('install')
      .description("Print the multicluster extension's manifests (gateway, Link CRD, remote access)")
      .option('--namespace <ns>', 'namespace of the extension', MULTICLUSTER_NAMESPACE)
      .option('--no-gateway', 'do not install the gateway (remote-discovery links only)')
      .option('--gateway-port <port>', 'port of the gateway', '4143')
      .option('--gateway-probe-port <port>', 'port of the gateway health probe', '4191')
      .option('--gateway-probe-seconds <n>', 'probe period the links use', '3')
      .option('--gateway-service-type <type>', 'LoadBalancer, NodePort or ClusterIP', 'LoadBalancer')
      .option(
        '--gateway-allowed-identities <ids>',
        'identities the gateway accepts (comma-separated; * = any meshed)',
        '*',
      )
      .option('--service-account-name <names>', 'remote-access ServiceAccounts (comma-separated)')
      .option('--linkerd-namespace <ns>', 'namespace of the control plane', 'linkerd')
      .option(
        '--identity-trust-domain <domain>',
        "trust domain of the gateway's identity (default: the cluster's)",
      )
      .option('--ignore-cluster', 'do not read the trust domain from the cluster'),
  ).action(
    guarded('multicluster install', err, async (flags: InstallFlags) => {
      const serviceType = flags.gatewayServiceType;
      if (serviceType !== 'LoadBalancer' && serviceType !== 'NodePort' && serviceType !== 'ClusterIP') {
        throw new MeshError(MeshErrorCode.InvalidArgument, `unknown service type "${serviceType}"`, {
          where: '--gateway-service-type',
          hint: 'LoadBalancer, NodePort or ClusterIP',
        });
      }
      let trustDomain = flags.identityTrustDomain;
      if (!trustDomain && !flags.ignoreCluster) {
        const client = connectKube(flags);
        try {
          trustDomain = (await readMeshFacts(client, flags.linkerdNamespace)).trustDomain;
        } catch (e) {
          throw new MeshError(MeshErrorCode.Unavailable, `cannot read the control plane's trust domain`, {
            cause: e,
            hint: 'pass --identity-trust-domain, or --ignore-cluster for cluster.local',
          });
        } finally {
          client.close();
        }
      }
      const probeSeconds = Number(flags.gatewayProbeSeconds ?? '3');
      out(
        formatManifests(
          renderInstall({
            namespace: flags.namespace,
            gateway: flags.gateway,
            gatewayPort: portFlag(flags.gatewayPort, '--gateway-port'),
            gatewayProbePort: portFlag(flags.gatewayProbePort, '--gateway-probe-port'),
            gatewayProbeSeconds: Number.isFinite(probeSeconds) && probeSeconds > 0 ? probeSeconds : 3,
            gatewayServiceType: serviceType,
            gatewayAllowedIdentities: list(flags.gatewayAllowedIdentities),
            linkerdNamespace: flags.linkerdNamespace,
            identityTrustDomain: trustDomain ?? 'cluster.local',
            ...(flags.serviceAccountName
              ? { remoteMirrorServiceAccounts: list(flags.serviceAccountName) }
              : {}),
          }),
        ),
      );
    }),
  );

  mc.command('allow')
    .description("Print a ServiceAccount and RBAC that let another cluster's service mirror read this one")
    .requiredOption('--service-account-name <name>', 'name of the ServiceAccount')
    .option('--namespace <ns>', 'namespace of the extension', MULTICLUSTER_NAMESPACE)
    .action(
      guarded('multicluster allow', err, (flags: { serviceAccountName: string; namespace: string }) => {
        out(formatManifests(remoteAccessManifests(flags.serviceAccountName, flags.namespace)));
      }),
    );

  kubeOptions(
    mc
      .command('link')
      .description(
        'Print the Link, credentials and service mirror to apply to the source cluster (run against the target)',
      )
      .option('--cluster-name <name>', 'name of the target cluster (mirrors are named <svc>-<name>)')
      .option('--namespace <ns>', 'namespace of the extension', MULTICLUSTER_NAMESPACE)
      .option('--linkerd-namespace <ns>', "the target's control-plane namespace", 'linkerd')
      .option(
        '--local-linkerd-namespace <ns>',
        "the source's control-plane namespace (remote discovery)",
        'linkerd',
      )
      .option('--no-gateway', 'no gateway: remote-discovery (pod-to-pod) mirrors only')
      .option('--gateway-addresses <addrs>', "instead of the gateway Service's load-balancer addresses")
      .option('--gateway-port <port>', "instead of the gateway Service's port")
      .option('--api-server-address <url>', "the target's API server as the source cluster reaches it")
      .option(
        '--service-account-name <name>',
        'remote-access ServiceAccount',
        'linkerd-service-mirror-remote-access-default',
      )
      .option(
        '--selector <k=v>',
        'Services to mirror through the gateway',
        `${MulticlusterKey.Exported}=true`,
      )
      .option(
        '--remote-discovery-selector <k=v>',
        'Services to mirror in remote-discovery mode',
        `${MulticlusterKey.Exported}=remote-discovery`,
      )
      .option(
        '--federated-services-selector <k=v>',
        'Services that join federated services',
        `${MulticlusterKey.Federated}=member`,
      )
      .option('--log-level <level>', 'log level of the service mirror', 'info')
      .option('--image <image>', 'image of the service mirror'),
  ).action(
    guarded('multicluster link', err, async (flags: LinkFlags) => {
      if (!flags.clusterName) {
        throw new MeshError(MeshErrorCode.InvalidArgument, 'the target cluster needs a name', {
          where: '--cluster-name',
          hint: 'e.g. --cluster-name east',
        });
      }
      const kc = loadKubeConfig(flags);
      const target = kubeClientFor(kc);
      try {
        const addresses = list(flags.gatewayAddresses);
        const input = await gatherLinkInput(target, kc, {
          clusterName: flags.clusterName,
          namespace: flags.namespace,
          linkerdNamespace: flags.linkerdNamespace,
          gateway: flags.gateway,
          ...(addresses.length ? { gatewayAddresses: addresses } : {}),
          ...(flags.gatewayPort ? { gatewayPort: portFlag(flags.gatewayPort, '--gateway-port') } : {}),
          ...(flags.apiServerAddress ? { apiServerAddress: flags.apiServerAddress } : {}),
          ...(flags.serviceAccountName ? { serviceAccountName: flags.serviceAccountName } : {}),
          ...(flags.selector ? { selector: parseSelectorFlag(flags.selector, '--selector') } : {}),
          ...(flags.remoteDiscoverySelector
            ? {
                remoteDiscoverySelector: parseSelectorFlag(
                  flags.remoteDiscoverySelector,
                  '--remote-discovery-selector',
                ),
              }
            : {}),
          ...(flags.federatedServicesSelector
            ? {
                federatedServiceSelector: parseSelectorFlag(
                  flags.federatedServicesSelector,
                  '--federated-services-selector',
                ),
              }
            : {}),
          ...(flags.image ? { image: flags.image } : {}),
          logLevel: flags.logLevel,
        });
        out(formatManifests(renderLink({ ...input, localLinkerdNamespace: flags.localLinkerdNamespace })));
      } finally {
        target.close();
      }
    }),
  );

  kubeOptions(
    mc
      .command('unlink')
      .description(
        'Print what a link made (Link, credentials, service mirror, mirrors) for kubectl delete -f -',
      )
      .option('--cluster-name <name>', 'name of the linked cluster')
      .option('--namespace <ns>', 'namespace of the extension', MULTICLUSTER_NAMESPACE)
      .option('--local-linkerd-namespace <ns>', "this cluster's control-plane namespace", 'linkerd'),
  ).action(
    guarded(
      'multicluster unlink',
      err,
      async (flags: CommonFlags & { clusterName?: string; localLinkerdNamespace: string }) => {
        const cluster = flags.clusterName;
        if (!cluster) {
          throw new MeshError(MeshErrorCode.InvalidArgument, 'which link?', { where: '--cluster-name' });
        }
        const client = connectKube(flags);
        try {
          try {
            await client.get(MeshKinds.Link, { namespace: flags.namespace, name: cluster });
          } catch (e) {
            throw new MeshError(MeshErrorCode.NotFound, `no Link ${flags.namespace}/${cluster}`, {
              cause: e,
              hint: 'list them with `kubectl get links -A`',
            });
          }
          // The same objects link rendered, by name only; then every mirror of that cluster.
          const rendered = renderLink({
            clusterName: cluster,
            namespace: flags.namespace,
            localLinkerdNamespace: flags.localLinkerdNamespace,
            kubeconfig: '',
            gatewayAddresses: [],
            gatewayPort: undefined,
            gatewayIdentity: '',
            targetClusterDomain: '',
            targetTrustDomain: '',
            targetLinkerdNamespace: '',
          });
          const mirrors = await listLocalMirrors(client, cluster);
          out(formatManifests([...rendered, ...mirrors.mirrorServices, ...mirrors.mirrorEndpoints].map(ref)));
        } finally {
          client.close();
        }
      },
    ),
  );

  kubeOptions(
    mc
      .command('check')
      .description('Check the links: credentials, shared trust anchors, gateways, mirrors')
      .option('--namespace <ns>', 'namespace of the extension', MULTICLUSTER_NAMESPACE)
      .option('--linkerd-namespace <ns>', 'namespace of the control plane', 'linkerd')
      .option('--no-probe-gateways', 'do not probe the gateways')
      .option('--wait <duration>', 'how long retried checks wait', '30s')
      .option('-o, --output <format>', 'table or json', 'table'),
  ).action(
    guarded(
      'multicluster check',
      err,
      async (
        flags: CommonFlags & {
          linkerdNamespace: string;
          probeGateways: boolean;
          wait: string;
          output: string;
        },
      ) => {
        const output = checkOutput(flags.output, ['table', 'json'] as const);
        const waitMs = parseDurationMs(flags.wait);
        if (waitMs === undefined) {
          throw new MeshError(MeshErrorCode.InvalidArgument, `"${flags.wait}" is not a duration`, {
            where: '--wait',
          });
        }
        const checks = multiclusterChecks({
          connect: () => connectKube(flags),
          namespace: flags.namespace,
          linkerdNamespace: flags.linkerdNamespace,
          probeGateways: flags.probeGateways,
        });
        try {
          const report = await runChecks(checks.categories, { waitMs });
          out(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
          if (!report.success) throw new CommanderError(1, 'multicluster.check.failed', 'checks failed');
        } finally {
          checks.close();
        }
      },
    ),
  );

  kubeOptions(
    mc
      .command('gateways')
      .description('Probe the gateway of every link: alive, mirrored services, latency')
      .option('--namespace <ns>', 'namespace of the extension', MULTICLUSTER_NAMESPACE),
  ).action(
    guarded('multicluster gateways', err, async (flags: CommonFlags) => {
      const client = connectKube(flags);
      try {
        const links: Link[] = (await client.list(MeshKinds.Link, { namespace: flags.namespace })).items.map(
          (l) => parseLink(l),
        );
        const rows = [['CLUSTER', 'ALIVE', 'NUM_SVC', 'LATENCY']];
        for (const link of links) {
          const services = await client.list(CoreKinds.Service, {
            labelSelector: `${MulticlusterKey.MirroredService}=true,${MulticlusterKey.ClusterName}=${link.targetClusterName}`,
          });
          const address = link.gatewayAddresses[0];
          let alive = 'False';
          let latency = '-';
          if (address) {
            try {
              const ms = await probeOnce(address, {
                ...link.probeSpec,
                timeoutMs: Math.min(link.probeSpec.timeoutMs, 5000),
              });
              alive = 'True';
              latency = `${Math.round(ms)}ms`;
            } catch {
              // dead: shown as False
            }
          } else alive = 'n/a';
          rows.push([link.targetClusterName, alive, String(services.items.length), latency]);
        }
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        out(
          `${rows
            .map((r) =>
              r
                .map((c, i) => c.padEnd(widths[i]!))
                .join('  ')
                .trimEnd(),
            )
            .join('\n')}\n`,
        );
      } finally {
        client.close();
      }
    }),
  );

  kubeOptions(
    mc
      .command('uninstall')
      .description('Print the extension for kubectl delete -f - (refused while Links exist)')
      .option('--namespace <ns>', 'namespace of the extension', MULTICLUSTER_NAMESPACE),
  ).action(
    guarded('multicluster uninstall', err, async (flags: CommonFlags) => {
      const client = connectKube(flags);
      try {
        let links: KubeObject[] = [];
        try {
          links = (await client.list(MeshKinds.Link)).items;
        } catch {
          // no Link CRD: nothing is linked
        }
        if (links.length > 0) {
          throw new MeshError(
            MeshErrorCode.FailedPrecondition,
            `there are Links: ${links.map((l) => `${l.metadata?.namespace}/${l.metadata?.name}`).join(', ')}`,
            {
              hint: 'unlink them first: tsmesh multicluster unlink --cluster-name NAME | kubectl delete -f -',
            },
          );
        }
        out(formatManifests(renderInstall({ namespace: flags.namespace }).map(ref).reverse()));
      } finally {
        client.close();
      }
    }),
  );
}
