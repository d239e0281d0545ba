// `tsmesh viz install|uninstall|check|authz`: the extension's manifests and checks, and the
// authorization decisions per route read from the proxies' metrics.
import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { DURATION_SYNTAX, MeshError, MeshErrorCode, parseDurationMs } from '@tsmesh/core';
import {
  authzSummary,
  formatAuthzTable,
  parseResource,
  startClusterTapServer,
  startTapInjector,
  statSummary,
  VIZ_NAMESPACE,
} from '@tsmesh/viz';
import type { KubeApiClient } from '@tsmesh/kube';
import { connectKube, formatReport, runChecks, type KubeConnectionFlags } from '../../check/index.js';
import { formatManifests } from '../../install/index.js';
import { guarded } from '../command-errors.js';
import { openSource, type VizSourceFlags } from './viz-source.js';
import { listenAddress, registerVizInClusterServers, serveUntilSignalled } from './in-cluster-servers.js';
import { tapIdentityFromIdentityService } from './tap-identity.js';
import { vizCheckCategories } from './viz-checks.js';
import { applyVizSets, DEFAULT_VIZ_VALUES, vizManifests, type VizValues } from './viz-manifests.js';

export { DEFAULT_VIZ_VALUES, vizManifests, type VizValues } from './viz-manifests.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function valuesOf(flags: { set: string[]; namespace?: string }): VizValues {
  try {
    return applyVizSets(
      { ...DEFAULT_VIZ_VALUES, ...(flags.namespace ? { namespace: flags.namespace } : {}) },
      flags.set,
    );
  } catch (err) {
    throw new MeshError(MeshErrorCode.InvalidArgument, (err as Error).message, {
      where: '--set',
      hint: 'e.g. --set prometheusUrl=http://prometheus.monitoring.svc:9090',
    });
  }
}

/**
 * A server process: started with the Kubernetes client, its listen address and a stop signal, it
 * runs until SIGTERM or SIGINT, then closes.
 */
async function serveUntilStopped(
  o: KubeConnectionFlags & { addr: string },
  start: (
    client: KubeApiClient,
    host: string,
    port: number,
    signal: AbortSignal,
  ) => Promise<() => Promise<void>>,
): Promise<void> {
  const { host, port } = listenAddress(o.addr, '--addr');
  const client = connectKube(o);
  try {
    await serveUntilSignalled((signal) => start(client, host, port, signal));
  } finally {
    client.close();
  }
}

/** The reference form of an object (for `kubectl delete -f -`). */
const refOf = (o: Record<string, unknown>) => {
  const m = o.metadata as { name: string; namespace?: string };
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}) },
  };
};

export function registerVizInstallCommands(
  viz: Command,
  out: (line: string) => void,
  err: (line: string) => void,
): void {
  viz
    .command('install')
    .description(
      'Print the linkerd-viz extension manifests (metrics-api, tap, tap-injector, web, Prometheus)',
    )
    .option('--set <key=value>', 'a value (e.g. prometheusUrl=…, imageRegistry=…); repeatable', collect, [])
    .option('-n, --namespace <ns>', 'namespace of the extension', VIZ_NAMESPACE)
    .action(
      guarded('viz install', err, (flags: { set: string[]; namespace?: string }) => {
        out(formatManifests(vizManifests(valuesOf(flags))).trimEnd());
      }),
    );

  viz
    .command('uninstall')
    .description('Print what viz install created (for kubectl delete -f -)')
    .option('-n, --namespace <ns>', 'namespace of the extension', VIZ_NAMESPACE)
    .action(
      guarded('viz uninstall', err, (flags: { namespace?: string }) => {
        // Namespaced objects go with the namespace; list it last so kubectl deletes the rest first.
        const objects = vizManifests(valuesOf({ set: [], ...flags })).map(refOf);
        const clusterScoped = objects.filter((o) => !o.metadata.namespace && o.kind !== 'Namespace');
        const elsewhere = objects.filter(
          (o) => o.metadata.namespace && o.metadata.namespace !== flags.namespace,
        );
        const ns = objects.filter((o) => o.kind === 'Namespace');
        out(formatManifests([...clusterScoped, ...elsewhere, ...ns]).trimEnd());
      }),
    );

  viz
    .command('check')
    .description('Check the linkerd-viz extension (namespace, RBAC, tap APIService and certificate, pods)')
    .option('--kubeconfig <file>', 'kubeconfig (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('-n, --namespace <ns>', 'namespace of the extension', VIZ_NAMESPACE)
    .option('--wait <d>', 'how long to wait for pods and the tap API to become ready', '0s')
    .option('--external-prometheus', 'Prometheus is not viz’s own (installed with --set prometheusUrl=)')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(
      guarded(
        'viz check',
        err,
        async (
          flags: KubeConnectionFlags & {
            namespace: string;
            wait: string;
            output: string;
            externalPrometheus?: boolean;
          },
        ) => {
          const waitMs = parseDurationMs(flags.wait);
          if (waitMs === undefined)
            throw new MeshError(MeshErrorCode.InvalidArgument, `"${flags.wait}" is not a duration`, {
              where: '--wait',
              hint: `use ${DURATION_SYNTAX}`,
            });
          let client: ReturnType<typeof connectKube> | undefined;
          try {
            const report = await runChecks(
              vizCheckCategories({
                connect: () => (client = connectKube(flags)),
                namespace: flags.namespace,
                externalPrometheus: !!flags.externalPrometheus,
              }),
              { waitMs, ...(flags.output === 'json' ? {} : { onProgress: (line: string) => err(line) }) },
            );
            out(flags.output === 'json' ? JSON.stringify(report, null, 2) : formatReport(report).trimEnd());
            if (!report.success) throw new CommanderError(1, 'viz.check.failed', 'viz checks failed');
          } finally {
            client?.close();
          }
        },
      ),
    );

  viz
    .command('tap-server')
    .description(
      'Run the tap service (the tap Deployment of viz install: the tap.linkerd.io APIService backend)',
    )
    .option('--addr <host:port>', 'the HTTPS listener of the aggregated API', '0.0.0.0:8089')
    .option('--tls-dir <dir>', 'its serving certificate (tls.crt, tls.key)', '/var/run/linkerd/tls')
    .option('--controller-namespace <ns>', 'the control plane namespace', 'linkerd')
    .option('--trust-domain <domain>', 'the identity trust domain', 'cluster.local')
    .option(
      '--identity-addr <host:port>',
      'the identity service',
      'linkerd-identity-headless.linkerd.svc.cluster.local:8080',
    )
    .option('--identity-token-file <file>', 'the ServiceAccount token for Identity.Certify')
    .option('--kubeconfig <file>', 'kubeconfig (default: in-cluster)')
    .action(
      guarded(
        'viz tap-server',
        err,
        async (
          o: KubeConnectionFlags & {
            addr: string;
            tlsDir: string;
            controllerNamespace: string;
            trustDomain: string;
            identityAddr: string;
            identityTokenFile?: string;
          },
        ) => {
          await serveUntilStopped(o, async (client, host, port, signal) => {
            const tapTls = await tapIdentityFromIdentityService({
              client,
              identityAddr: o.identityAddr,
              ...(o.identityTokenFile ? { tokenFile: o.identityTokenFile } : {}),
              controlPlaneNamespace: o.controllerNamespace,
              trustDomain: o.trustDomain,
              signal,
            });
            const server = await startClusterTapServer({
              client,
              tlsDir: o.tlsDir,
              host,
              port,
              controlPlaneNamespace: o.controllerNamespace,
              trustDomain: o.trustDomain,
              tapTls,
              signal,
            });
            err(`viz tap-server: serving tap.linkerd.io/v1alpha1 on ${o.addr}`);
            return () => server.close();
          });
        },
      ),
    );

  viz
    .command('tap-injector')
    .description('Run the tap injector webhook (the tap-injector Deployment of viz install)')
    .option('--addr <host:port>', 'the webhook listener', '0.0.0.0:8443')
    .option('--tls-dir <dir>', 'its serving certificate (tls.crt, tls.key)', '/var/run/linkerd/tls')
    .option(
      '--tap-service-name <identity>',
      'the identity proxies accept tap from',
      'tap.linkerd-viz.serviceaccount.identity.linkerd.cluster.local',
    )
    .option('--kubeconfig <file>', 'kubeconfig (default: in-cluster)')
    .action(
      guarded(
        'viz tap-injector',
        err,
        async (o: KubeConnectionFlags & { addr: string; tlsDir: string; tapServiceName: string }) => {
          await serveUntilStopped(o, async (client, host, port) => {
            const { server } = await startTapInjector({
              client,
              tlsDir: o.tlsDir,
              host,
              port,
              tapServiceName: o.tapServiceName,
            });
            err(`viz tap-injector: serving on ${o.addr}`);
            return () => server.close();
          });
        },
      ),
    );

  registerVizInClusterServers(viz, err);

  viz
    .command('authz')
    .description(
      'Authorization decisions per route of a resource (allowed and denied requests, from proxy metrics)',
    )
    .argument('<resource>', 'deploy/NAME (or deploy NAME)')
    .argument('[name]', 'the resource name')
    .option('-n, --namespace <ns>', 'namespace of the resource', 'default')
    .option('--prometheus-url <url>', 'query this Prometheus (default: scrape the local proxies directly)')
    .option('--state <dir>', 'local mode: the state directory of `tsmesh up` / `tsmesh demo`')
    .option(
      '-t, --time-window <window>',
      'the window rates are over (default 1m with Prometheus, 10s locally)',
    )
    .option('-o, --output <format>', 'json for rows as JSON')
    .action(
      guarded(
        'viz authz',
        err,
        async (
          resource: string,
          name: string | undefined,
          o: VizSourceFlags & { namespace: string; output?: string },
        ) => {
          const r = parseResource(resource, name);
          if (r.type !== 'deployment' && r.type !== 'namespace')
            throw new MeshError(
              MeshErrorCode.InvalidArgument,
              `authz shows deployments (or a namespace), not ${r.type}`,
              {
                where: 'resource',
                hint: 'e.g. tsmesh viz authz deploy/web -n emojivoto',
              },
            );
          const source = await openSource(o);
          const [rows, routes] = await Promise.all([
            authzSummary(source.vectors, {
              namespace: r.type === 'namespace' ? (r.name ?? o.namespace) : o.namespace,
              ...(r.type === 'deployment' && r.name ? { deployment: r.name } : {}),
            }),
            statSummary(source.vectors, { resource: { type: 'route' }, namespace: o.namespace, within: r }),
          ]);
          out(o.output === 'json' ? JSON.stringify(rows, null, 2) : formatAuthzTable(rows, routes));
        },
      ),
    );
}
