// `tsmesh viz tap` and `tsmesh viz top`: live requests of a resource's pods through the tap
// service. In local mode (--state, the default) the CLI is the tap service: it lists the local
// control plane's pods, signs itself the tap identity's certificate with the state directory's
// issuer (reading it is the local authorization: only the mesh's operator can) and opens Observe
// on each proxy's control port. Against a cluster (--kubeconfig/--context) it asks the tap
// service's APIService through the Kubernetes API, which authenticates the user and the tap
// service checks RBAC (SubjectAccessReview on tap.linkerd.io).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  createTapService,
  createTopTable,
  formatTopTable,
  issueTapCertificate,
  parseTapQuery,
  renderTapLine,
  tapThroughKubeApi,
  type TapQuery,
  type TapService,
  type TapStreamItem,
} from '@tsmesh/viz';
import { loadKubeConfig } from '../check/index.js';
import { defaultStateDir, readControlPlaneInfo, statePaths } from '../local/index.js';
import { guarded } from './command-errors.js';
import { durationFlag } from './duration-flag.js';
import { localPods } from './viz/viz-source.js';

interface TapFlags {
  namespace: string;
  to?: string;
  toNamespace?: string;
  method?: string;
  path?: string;
  authority?: string;
  scheme?: string;
  maxRps?: string;
  output?: string;
  state?: string;
  kubeconfig?: string;
  context?: string;
  /** Stop after this long (default: until Ctrl-C). */
  duration?: string;
  hideSources?: boolean;
  window?: string;
}

/** The tap service of a local mesh (`tsmesh up`/`demo` state directory), for the CLI and the dashboard. */
export function localTapService(stateDir: string): TapService {
  const paths = statePaths(stateDir);
  const info = readControlPlaneInfo(paths);
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (cause) {
      throw new MeshError(MeshErrorCode.PermissionDenied, `cannot read ${file}`, {
        cause,
        where: stateDir,
        hint: 'tap in local mode needs the state directory of `tsmesh up` (the user who started it, or root)',
      });
    }
  };
  const tls = issueTapCertificate({
    issuerCertificatePem: read(join(paths.issuerDir, 'tls.crt')),
    issuerKeyPem: read(join(paths.issuerDir, 'tls.key')),
    trustAnchorsPem: read(paths.anchorCert),
    trustDomain: info.trustDomain,
    controlPlaneNamespace: info.controlPlaneNamespace,
  });
  return createTapService({
    listPods: (signal) => localPods(stateDir, signal),
    tls,
    trustDomain: info.trustDomain,
    controlPlaneNamespace: info.controlPlaneNamespace,
  });
}

function queryOf(resource: string, name: string | undefined, o: TapFlags, extract: boolean): TapQuery {
  return parseTapQuery({
    resource: name ? `${resource}/${name}` : resource,
    namespace: o.namespace,
    ...(o.to ? { toResource: o.to } : {}),
    ...(o.toNamespace ? { toNamespace: o.toNamespace } : {}),
    ...(o.method ? { method: o.method } : {}),
    ...(o.path ? { path: o.path } : {}),
    ...(o.authority ? { authority: o.authority } : {}),
    ...(o.scheme ? { scheme: o.scheme } : {}),
    ...(o.maxRps ? { maxRps: o.maxRps } : {}),
    extract,
  });
}

async function openStream(
  q: TapQuery,
  o: TapFlags,
  signal: AbortSignal,
): Promise<AsyncIterable<TapStreamItem>> {
  if (o.kubeconfig || o.context) return tapThroughKubeApi({ kubeConfig: loadKubeConfig(o) }, q, signal);
  return localTapService(o.state ?? defaultStateDir()).tap(q, signal);
}

const tapOptions = (cmd: Command) =>
  cmd
    .argument('<resource>', 'TYPE/NAME or TYPE (deploy, po, ns, sts, ds, rs, rc, job, cj)')
    .argument('[name]', 'the resource name')
    .option('-n, --namespace <ns>', 'namespace of the resource', 'default')
    .option('--to <resource>', 'only requests to this resource (e.g. deploy/voting, svc/emoji-svc)')
    .option('--to-namespace <ns>', 'namespace of --to (default: --namespace)')
    .option('--method <method>', 'only requests with this HTTP method')
    .option('--path <prefix>', 'only requests whose path starts with this prefix')
    .option('--authority <authority>', 'only requests with this :authority')
    .option('--scheme <scheme>', 'only requests with this scheme')
    .option('--max-rps <n>', 'most requests a second to tap (default 100)')
    .option('--state <dir>', 'local mode: the state directory of `tsmesh up` / `tsmesh demo`')
    .option('--kubeconfig <file>', 'tap a cluster through its tap APIService (else: local mode)')
    .option('--context <name>', 'kubeconfig context (implies a cluster)');

function signalFor(ms: number | undefined): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const timer = ms ? setTimeout(() => controller.abort(), ms) : undefined;
  return {
    signal: controller.signal,
    done() {
      process.off('SIGINT', onSigint);
      if (timer) clearTimeout(timer);
      controller.abort();
    },
  };
}

export function registerVizTapCommands(
  viz: Command,
  out: (line: string) => void,
  err: (line: string) => void,
): void {
  tapOptions(
    viz
      .command('tap')
      .description(
        'Listen to a live stream of requests of a resource (req/rsp/end lines, as linkerd viz tap)',
      ),
  )
    .option('-o, --output <format>', 'wide or json')
    .option('-d, --duration <d>', 'stop after this long (default: until Ctrl-C)')
    .action(
      guarded('viz tap', err, async (resource: string, name: string | undefined, o: TapFlags) => {
        if (o.output !== undefined && o.output !== 'wide' && o.output !== 'json')
          throw new MeshError(
            MeshErrorCode.InvalidArgument,
            `output format ${JSON.stringify(o.output)} not recognized`,
            { where: '--output', hint: 'use wide or json' },
          );
        const q = queryOf(resource, name, o, o.output === 'json');
        const run = signalFor(durationFlag(o.duration, '--duration'));
        try {
          const stream = await openStream(q, o, run.signal);
          for await (const item of stream) {
            if (item.kind === 'error') err(`viz tap: ${item.error.message}`);
            else if (o.output === 'json') out(JSON.stringify(item.event, null, 2));
            else out(renderTapLine(item.event, o.output === 'wide' ? q.resource.type : undefined));
          }
        } finally {
          run.done();
        }
      }),
    );

  tapOptions(
    viz
      .command('top')
      .description('Live table of the most requested paths of a resource (as linkerd viz top)'),
  )
    .option('--hide-sources', 'hide the source column')
    .option('-w, --window <d>', 'without a terminal: print one table after this long (default 10s)')
    .action(
      guarded('viz top', err, async (resource: string, name: string | undefined, o: TapFlags) => {
        const q = queryOf(resource, name, o, false);
        const tty = process.stdout.isTTY === true;
        const windowMs = durationFlag(o.window ?? '10s', '--window');
        const run = signalFor(tty ? undefined : windowMs);
        const table = createTopTable();
        const draw = () => {
          const text = formatTopTable(table.rows(), { hideSources: !!o.hideSources });
          // Clear the screen and draw from the top, as linkerd's top redraws every 100 ms.
          process.stdout.write(`\x1b[H\x1b[2J(press Ctrl-C to quit)\n\n${text}\n`);
        };
        const timer = tty ? setInterval(draw, 100) : undefined;
        try {
          const stream = await openStream(q, o, run.signal);
          for await (const item of stream) {
            if (item.kind === 'error') err(`viz top: ${item.error.message}`);
            else table.insert(item.event);
          }
        } finally {
          if (timer) clearInterval(timer);
          run.done();
        }
        if (!tty) out(formatTopTable(table.rows(), { hideSources: !!o.hideSources }));
      }),
    );
}
