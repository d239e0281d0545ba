// `tsmesh viz …`: Linkerd's viz views of the mesh — stat, routes, edges; tap and top in viz-tap.ts.
// The numbers come from a Prometheus server (--prometheus-url, queries as linkerd-viz's
// metrics-api writes them) or, in local mode, from the proxies' /metrics scraped
// twice a window apart (--state: the pods the local control plane knows).
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import {
  edgesOf,
  formatEdgesTable,
  formatRoutesTable,
  formatStatTable,
  parseResource,
  podTargetLabels,
  statSummary,
  type Resource,
  type StatQuery,
  type StatRow,
} from '@tsmesh/viz';
import { guarded } from './command-errors.js';
import { openSource, type VizSourceFlags } from './viz/viz-source.js';
import { registerVizTapCommands } from './viz-tap.js';
import { registerVizInstallCommands } from './viz/index.js';

export { localPods, openSource, type VizSourceFlags } from './viz/viz-source.js';

interface StatFlags extends VizSourceFlags {
  namespace: string;
  allNamespaces?: boolean;
  from?: string;
  fromNamespace?: string;
  to?: string;
  toNamespace?: string;
  output?: string;
}

/** MESHED's total: the pods of each row's resource the local control plane knows. */
function withTotals(rows: StatRow[], pods: readonly KubeObject[] | undefined): StatRow[] {
  if (!pods) return rows;
  const labels = pods.map(podTargetLabels);
  return rows.map((r) => {
    const key = r.type === 'namespace' ? 'namespace' : r.type;
    if (!['namespace', 'deployment', 'pod'].includes(key)) return r;
    const total = labels.filter(
      (l) => l[key] === r.name && (key === 'namespace' || l.namespace === r.namespace),
    ).length;
    return { ...r, totalPods: total };
  });
}

const withNamespace = (r: Resource, ns: string | undefined) => (ns ? { ...r, namespace: ns } : r);

function statQueryOf(resource: string, name: string | undefined, o: StatFlags): StatQuery {
  const from = o.from ? withNamespace(parseResource(o.from), o.fromNamespace ?? o.namespace) : undefined;
  const to = o.to ? withNamespace(parseResource(o.to), o.toNamespace ?? o.namespace) : undefined;
  if (from && to)
    throw new MeshError(MeshErrorCode.InvalidArgument, '--from and --to cannot be used together', {
      where: 'tsmesh viz stat',
    });
  return {
    resource: parseResource(resource, name),
    namespace: o.namespace,
    ...(o.allNamespaces ? { allNamespaces: true } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
}

function checkOutput(output: string | undefined): 'table' | 'wide' | 'json' {
  if (output === undefined || output === 'table') return 'table';
  if (output === 'wide' || output === 'json') return output;
  throw new MeshError(MeshErrorCode.InvalidArgument, `unknown output format ${JSON.stringify(output)}`, {
    where: '--output',
    hint: 'use wide or json',
  });
}

const sourceOptions = (cmd: Command) =>
  cmd
    .option('--prometheus-url <url>', 'query this Prometheus (default: scrape the local proxies directly)')
    .option('--state <dir>', 'local mode: the state directory of `tsmesh up` / `tsmesh demo`')
    .option(
      '-t, --time-window <window>',
      'the window rates are over (default 1m with Prometheus, 10s locally)',
    );

export function registerVizCommand(
  program: Command,
  out: (line: string) => void,
  err: (line: string) => void,
): void {
  const viz = program.command('viz').description('Golden metrics, routes and edges of meshed workloads');

  sourceOptions(
    viz
      .command('stat')
      .description('Success rate, requests a second, latency and TCP connections per resource')
      .argument('<resource>', 'ns, deploy, po, svc, au or rt, optionally /NAME (e.g. deploy/web)')
      .argument('[name]', 'the resource name (or TYPE/NAME)'),
  )
    .option('-n, --namespace <ns>', 'namespace of the resource', 'default')
    .option('-A, --all-namespaces', 'every namespace')
    .option('--from <resource>', 'only traffic from this resource (e.g. deploy/vote-bot)')
    .option('--from-namespace <ns>', "namespace of --from (default: the resource's)")
    .option('--to <resource>', 'only traffic to this resource')
    .option('--to-namespace <ns>', "namespace of --to (default: the resource's)")
    .option('-o, --output <format>', 'wide or json')
    .action(
      guarded('viz stat', err, async (resource: string, name: string | undefined, o: StatFlags) => {
        const output = checkOutput(o.output);
        const query = statQueryOf(resource, name, o);
        const source = await openSource(o);
        const rows = withTotals(await statSummary(source.vectors, query), source.pods);
        if (output === 'json') return out(JSON.stringify(rows, null, 2));
        out(formatStatTable(rows, { wide: output === 'wide', allNamespaces: !!o.allNamespaces }));
      }),
    );

  sourceOptions(
    viz
      .command('routes')
      .description('Per-route success rate, requests a second and latency of a resource (inbound)')
      .argument('[resource]', 'the resource whose routes to show (e.g. deploy/web); default all'),
  )
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-o, --output <format>', 'wide or json')
    .action(
      guarded('viz routes', err, async (resource: string | undefined, o: StatFlags) => {
        const output = checkOutput(o.output);
        const within = resource ? parseResource(resource) : undefined;
        const source = await openSource(o);
        const rows = await statSummary(source.vectors, {
          resource: { type: 'route' },
          namespace: o.namespace,
          ...(within ? { within } : {}),
        });
        out(output === 'json' ? JSON.stringify(rows, null, 2) : formatRoutesTable(rows));
      }),
    );

  sourceOptions(
    viz
      .command('edges')
      .description('Who talks to whom: source, destination, identities and whether mTLS secures it')
      .argument('<type>', 'deploy, po or ns'),
  )
    .option('-n, --namespace <ns>', 'namespace of the sources', 'default')
    .option('-A, --all-namespaces', 'every namespace')
    .option('-o, --output <format>', 'wide or json')
    .action(
      guarded('viz edges', err, async (type: string, o: StatFlags) => {
        const output = checkOutput(o.output);
        const resource = parseResource(type);
        const source = await openSource(o);
        const edges = await edgesOf(source.vectors, {
          type: resource.type,
          ...(o.allNamespaces ? {} : { namespace: o.namespace }),
        });
        out(
          output === 'json'
            ? JSON.stringify(edges, null, 2)
            : formatEdgesTable(edges, { wide: output === 'wide' }),
        );
      }),
    );
  registerVizTapCommands(viz, out, err);
  registerVizInstallCommands(viz, out, err);
}
