// `tsmesh diagnostics proxy-metrics|controller-metrics|endpoints|policy`: linkerd's diagnostics
// commands against the cluster named by the global --kubeconfig, --context and -n.
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { guarded } from '../command-errors.js';
import { checkOutput } from '../output-format.js';
import { loadKubeConfig } from '../../check/index.js';
import { readControlPlaneInfo, statePaths } from '../../local/index.js';
import { globalClusterFlags, resolveNamespace } from '../global-options.js';
import {
  openClusterSession,
  parseWaitMs,
  withAccessHint,
  withClusterSession,
  type ClusterSession,
} from './cluster-session.js';
import { controlPlaneAddress } from './control-plane-address.js';
import { queryProfile } from './destination-profile.js';
import { formatEndpoints, queryEndpoints } from './endpoints.js';
import {
  controllerMetrics,
  formatControllerMetrics,
  formatProxyMetrics,
  proxyMetrics,
  type ScrapeResult,
} from './metrics.js';
import { parsePodRoute } from './pod-http.js';
import { formatProtoJson, parsePolicyTarget, parsePort, queryPolicy } from './policy.js';

export { endpointRows, formatEndpoints, formatNetIp, queryEndpoints, type EndpointRow } from './endpoints.js';
export {
  formatControllerMetrics,
  formatProxyMetrics,
  obfuscateMetrics,
  type ScrapeResult,
} from './metrics.js';
export { withClusterSession, type ClusterSession } from './cluster-session.js';
export { parseWorkloadRef, podsOf, selectorString, type WorkloadRef } from './workload-pods.js';
export { formatProtoJson, parsePolicyTarget, queryPolicy, type PolicyTarget } from './policy.js';

type Out = (text: string) => void;

interface ScrapeFlags {
  via: string;
  wait: string;
}

const VIA_HELP = 'how to reach pods: apiserver (the API server pods/proxy subresource) or direct (pod IPs)';

function failIfAllFailed(results: readonly ScrapeResult[], what: string): void {
  if (results.length > 0 && results.every((r) => r.error !== undefined)) {
    throw new MeshError(MeshErrorCode.Unavailable, `no ${what} could be scraped: ${results[0]!.error}`, {
      where: results[0]!.pod,
      hint: 'see the # ERROR lines above; --via direct reaches pod IPs from the pod network',
    });
  }
}

interface ControlPlaneFlags {
  state?: string;
  destinationAddr?: string;
  policyAddr?: string;
  destinationPod?: string;
  controllerNamespace: string;
  wait: string;
}

/** The options every gRPC diagnostics command has: where the service is, and how long to wait. */
function controlPlaneOptions(command: Command, container: 'destination' | 'policy'): Command {
  return command
    .option(`--${container}-addr <host:port>`, `dial the ${container} service here instead of its pod IP`)
    .option('--destination-pod <name>', 'ask this destination pod when there are several')
    .option('--controller-namespace <ns>', 'namespace of the control plane', 'linkerd')
    .option('--state <dir>', "the local mesh of `tsmesh up --state DIR`: its control-plane.json's address")
    .option('-w, --wait <duration>', 'time allowed for each answer', '10s');
}

/** The destination or policy address a local control plane (`tsmesh up`) recorded. */
function localAddress(stateDir: string, container: 'destination' | 'policy'): string {
  const paths = statePaths(stateDir);
  const addr = readControlPlaneInfo(paths)[container]?.addr;
  if (!addr) {
    throw new MeshError(MeshErrorCode.Unavailable, `the local control plane runs no ${container} service`, {
      where: paths.controlPlane,
      hint: `start tsmesh up with ${container} among --controllers`,
    });
  }
  return addr;
}

/**
 * Runs `body` with the address of the destination or policy service and the namespace (-n, else
 * the context's). With an explicit address (e.g. tsmesh up's control plane, or a port-forward) and
 * -n, no kubeconfig is read.
 */
async function withControlPlane(
  cmd: Command,
  container: 'destination' | 'policy',
  flags: ControlPlaneFlags,
  body: (address: string, namespace: () => string, timeoutMs: number) => Promise<void>,
): Promise<void> {
  const timeoutMs = parseWaitMs(flags.wait);
  const global = globalClusterFlags(cmd);
  const explicit =
    (container === 'policy' ? flags.policyAddr : flags.destinationAddr) ??
    (flags.state === undefined ? undefined : localAddress(flags.state, container));
  const session: ClusterSession | undefined = explicit ? undefined : openClusterSession(global);
  try {
    const address = await controlPlaneAddress(session, {
      explicit,
      flag: `--${container}-addr`,
      controllerNamespace: flags.controllerNamespace,
      container,
      pod: flags.destinationPod,
    });
    const namespace = () =>
      global.namespace ??
      session?.namespace ??
      (flags.state === undefined ? resolveNamespace(global, loadKubeConfig(global)) : 'default');
    await body(address, namespace, timeoutMs);
  } catch (e) {
    throw withAccessHint(e);
  } finally {
    session?.close();
  }
}

export function registerDiagnosticsCommand(program: Command, out: Out, err: Out): void {
  const diagnostics = program
    .command('diagnostics')
    .alias('diag')
    .description('Commands used to diagnose the control plane and the proxies');

  diagnostics
    .command('proxy-metrics')
    .description("Fetch metrics directly from the proxies of a resource's pods (port linkerd-admin)")
    .argument('<resource...>', 'TYPE/NAME, e.g. po/web-0, deploy/web, sts/db (or TYPE NAME)')
    .option('--obfuscate', 'hash authorities, identities and addresses in the labels')
    .option('--via <route>', VIA_HELP, 'apiserver')
    .option('-w, --wait <duration>', 'time allowed for each scrape', '30s')
    .addHelpText('after', '\nExamples:\n  tsmesh diagnostics proxy-metrics -n emojivoto deploy/web\n')
    .action(
      guarded(
        'diagnostics proxy-metrics',
        err,
        async (resource: string[], flags: ScrapeFlags & { obfuscate?: boolean }, cmd: Command) => {
          const options = { route: parsePodRoute(flags.via), timeoutMs: parseWaitMs(flags.wait) };
          if (resource.length > 2) {
            throw new MeshError(MeshErrorCode.InvalidArgument, 'one resource at a time', {
              where: 'RESOURCE',
              hint: 'e.g. deploy/web',
            });
          }
          const results = await withClusterSession(globalClusterFlags(cmd), (s) =>
            proxyMetrics(s, resource, options),
          );
          out(formatProxyMetrics(results, flags.obfuscate ?? false));
          failIfAllFailed(results, 'proxy');
        },
      ),
    );

  diagnostics
    .command('controller-metrics')
    .alias('cp-metrics')
    .description('Fetch metrics directly from the control-plane containers (port admin-http)')
    .option('--controller-namespace <ns>', 'namespace of the control plane', 'linkerd')
    .option('--via <route>', VIA_HELP, 'apiserver')
    .option('-w, --wait <duration>', 'time allowed for each scrape', '30s')
    .action(
      guarded(
        'diagnostics controller-metrics',
        err,
        async (flags: ScrapeFlags & { controllerNamespace: string }, cmd: Command) => {
          const options = { route: parsePodRoute(flags.via), timeoutMs: parseWaitMs(flags.wait) };
          const results = await withClusterSession(globalClusterFlags(cmd), (s) =>
            controllerMetrics(s, flags.controllerNamespace, options),
          );
          out(formatControllerMetrics(results));
          failIfAllFailed(results, 'control-plane container');
        },
      ),
    );

  controlPlaneOptions(
    diagnostics
      .command('endpoints')
      .alias('ep')
      .description("Introspect the destination service's discovery state for authorities")
      .argument('<authorities...>', 'HOST:PORT, e.g. web.emojivoto.svc.cluster.local:80')
      .option('-o, --output <format>', 'table or json', 'table'),
    'destination',
  ).action(
    guarded(
      'diagnostics endpoints',
      err,
      async (authorities: string[], flags: ControlPlaneFlags & { output: string }, cmd: Command) => {
        const output = checkOutput(flags.output, ['table', 'json'] as const);
        await withControlPlane(cmd, 'destination', flags, async (address, _ns, timeoutMs) => {
          const rows = await queryEndpoints(address, authorities, timeoutMs);
          if (rows.length === 0 && output === 'table') err('No endpoints found.');
          else out(formatEndpoints(rows, output));
        });
      },
    ),
  );

  controlPlaneOptions(
    diagnostics
      .command('profile')
      .description("Introspect the destination service's profile for an authority or IP:PORT")
      .argument('<address>', 'HOST:PORT, e.g. web.emojivoto.svc.cluster.local:80 or 198.18.0.7:8080')
      .option('-o, --output <format>', 'json or yaml', 'json')
      .option('--token <token>', 'the context token a proxy would send, e.g. {"ns":"emojivoto"}', ''),
    'destination',
  ).action(
    guarded(
      'diagnostics profile',
      err,
      async (target: string, flags: ControlPlaneFlags & { output: string; token: string }, cmd: Command) => {
        const output = checkOutput(flags.output, ['json', 'yaml'] as const);
        await withControlPlane(cmd, 'destination', flags, async (address, _ns, timeoutMs) => {
          out(formatProtoJson(await queryProfile(address, target, flags.token, timeoutMs), output));
        });
      },
    ),
  );

  controlPlaneOptions(
    diagnostics
      .command('policy')
      .description(
        "Introspect the policy controller's state for a pod port (inbound) or a Service port (outbound)",
      )
      .argument('<resource>', 'po/NAME (inbound) or svc/NAME (outbound)')
      .argument('<port>', 'port number')
      .option('-o, --output <format>', 'yaml or json', 'yaml')
      .option('--cluster-domain <domain>', 'DNS suffix of Services', 'cluster.local')
      .addHelpText(
        'after',
        '\nExamples:\n  tsmesh diagnostics policy -n emojivoto po/emoji-6d66d87995-bvrnn 8080\n  tsmesh diagnostics policy -n emojivoto svc/web-svc 80\n',
      ),
    'policy',
  ).action(
    guarded(
      'diagnostics policy',
      err,
      async (
        resource: string,
        portText: string,
        flags: ControlPlaneFlags & { output: string; clusterDomain: string },
        cmd: Command,
      ) => {
        const output = checkOutput(flags.output, ['yaml', 'json'] as const);
        const target = parsePolicyTarget(resource);
        const port = parsePort(portText);
        await withControlPlane(cmd, 'policy', flags, async (address, namespace, timeoutMs) => {
          const policy = await queryPolicy({
            address,
            namespace: namespace(),
            target,
            port,
            clusterDomain: flags.clusterDomain,
            timeoutMs,
          });
          out(formatProtoJson(policy, output));
        });
      },
    ),
  );
}
