// `tsmesh inject` and `tsmesh uninject`: manifests in (files, directories, `-` for stdin), the same
// manifests out on stdout with the proxy added or removed, and a Linkerd-style report on stderr
// ("deployment "web" injected"). Without --manual, inject only annotates the pod templates
// (`linkerd.io/inject: enabled` plus the overrides given as flags) for the webhook to act on, as
// `linkerd inject` does; with --manual the proxy is added here, by the same inject() the webhook runs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  ConfigAnnotation,
  DeprecatedConfigAnnotation,
  InjectMode,
  INJECT_ANNOTATION,
  MeshError,
  MeshErrorCode,
} from '@tsmesh/core';
import {
  annotate,
  createInjectorConfig,
  inject,
  injectorConfigInputFromFiles,
  transformManifests,
  uninject,
  type InjectorConfigInput,
  type InjectReportEntry,
  type ManifestFormat,
  type Workload,
} from '@tsmesh/injector';
import { VERSION } from '../version.js';
import { guarded } from './command-errors.js';
import { checkOutput } from './output-format.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface ManifestInput {
  /** File path, or `-` for stdin. */
  source: string;
  text: string;
}

/** Reads files, directories (their .yaml/.yml/.json files, recursively, sorted) and `-`. */
export async function readManifestInputs(
  paths: readonly string[],
  readStdin: () => Promise<string>,
): Promise<ManifestInput[]> {
  const inputs: ManifestInput[] = [];
  for (const path of paths) {
    if (path === '-') {
      inputs.push({ source: '-', text: await readStdin() });
      continue;
    }
    if (/^https?:\/\//.test(path)) {
      throw new MeshError(MeshErrorCode.InvalidArgument, `cannot read ${path}: URLs are not supported`, {
        hint: 'download it first, or pipe it: curl -sL URL | tsmesh inject -',
      });
    }
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new MeshError(MeshErrorCode.InvalidArgument, `${path}: no such file or directory`);
    }
    const files = stat.isDirectory()
      ? readdirSync(path, { recursive: true, encoding: 'utf8' })
          .filter((name) => MANIFEST_EXTENSIONS.has(extname(name)))
          .sort()
          .map((name) => join(path, name))
      : [path];
    for (const file of files) inputs.push({ source: file, text: readFileSync(file, 'utf8') });
  }
  return inputs;
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One report line, as Linkerd's CLI writes them. */
export function formatReportLine(entry: InjectReportEntry): string {
  const what = `${entry.kind.toLowerCase()} "${entry.name}"`;
  if (entry.status === 'failed') return `${what} not injected: ${entry.message}`;
  if (entry.status !== 'skipped') return `${what} ${entry.status}`;
  // Kinds without a pod template are skipped silently (as Linkerd does); malformed ones say why.
  if (entry.reason === 'unsupported_resource' && !entry.message?.startsWith('malformed'))
    return `${what} skipped`;
  return `${what} skipped: ${entry.message ?? entry.reason}`;
}

function formatReport(entries: readonly InjectReportEntry[]): string {
  const lines: string[] = [];
  for (const entry of entries) {
    for (const warning of entry.warnings)
      lines.push(`warning: ${entry.kind.toLowerCase()} "${entry.name}": ${warning}`);
  }
  lines.push('', ...entries.map(formatReportLine), '');
  return `${lines.join('\n')}\n`;
}

/** Joins the transformed inputs: YAML documents with `---`, JSON objects into one document or a List. */
function joinOutputs(parts: { text: string; format: ManifestFormat }[], format: ManifestFormat): string {
  if (format === 'yaml') return parts.map((p) => p.text).join('---\n');
  const objects: unknown[] = [];
  for (const part of parts) {
    const value = JSON.parse(part.text) as { kind?: string; items?: unknown[] } | unknown[];
    if (Array.isArray(value)) objects.push(...value);
    else objects.push(value);
  }
  const body = objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
  return `${JSON.stringify(body, null, 2)}\n`;
}

function parseOutput(value: string | undefined): ManifestFormat | undefined {
  return value === undefined ? undefined : checkOutput(value, ['yaml', 'json'] as const);
}

interface InjectFlags {
  manual?: boolean;
  ingress?: boolean;
  proxyImage?: string;
  proxyVersion?: string;
  initImage?: string;
  initImageVersion?: string;
  imagePullPolicy?: string;
  proxyLogLevel?: string;
  proxyLogFormat?: string;
  proxyUid?: string;
  proxyCpuRequest?: string;
  proxyCpuLimit?: string;
  proxyMemoryRequest?: string;
  proxyMemoryLimit?: string;
  skipInboundPorts: string[];
  skipOutboundPorts: string[];
  opaquePorts: string[];
  defaultInboundPolicy?: string;
  nativeSidecar?: boolean;
  enableDebugSidecar?: boolean;
  waitBeforeExitSeconds?: string;
  ignoreCluster?: boolean;
  config?: string;
  linkerdValues?: string;
  identityTrustAnchorsFile?: string;
  output?: string;
}

/** The `config.linkerd.io/*` annotations the flags stand for. */
export function flagAnnotations(flags: InjectFlags): Record<string, string> {
  const a: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== '') a[key] = value;
  };
  set(ConfigAnnotation.ProxyImage, flags.proxyImage);
  set(ConfigAnnotation.ProxyVersion, flags.proxyVersion);
  set('config.linkerd.io/init-image', flags.initImage);
  set('config.linkerd.io/init-image-version', flags.initImageVersion);
  set(ConfigAnnotation.ImagePullPolicy, flags.imagePullPolicy);
  set(ConfigAnnotation.ProxyLogLevel, flags.proxyLogLevel);
  set(ConfigAnnotation.ProxyLogFormat, flags.proxyLogFormat);
  set(ConfigAnnotation.ProxyUid, flags.proxyUid);
  set(ConfigAnnotation.ProxyCpuRequest, flags.proxyCpuRequest);
  set(ConfigAnnotation.ProxyCpuLimit, flags.proxyCpuLimit);
  set(ConfigAnnotation.ProxyMemoryRequest, flags.proxyMemoryRequest);
  set(ConfigAnnotation.ProxyMemoryLimit, flags.proxyMemoryLimit);
  set(ConfigAnnotation.SkipInboundPorts, flags.skipInboundPorts.join(','));
  set(ConfigAnnotation.SkipOutboundPorts, flags.skipOutboundPorts.join(','));
  set(ConfigAnnotation.OpaquePorts, flags.opaquePorts.join(','));
  set(ConfigAnnotation.DefaultInboundPolicy, flags.defaultInboundPolicy);
  if (flags.nativeSidecar !== undefined)
    set(ConfigAnnotation.ProxyEnableNativeSidecar, String(flags.nativeSidecar));
  if (flags.enableDebugSidecar) set(ConfigAnnotation.EnableDebugSidecar, 'true');
  // Linkerd's --wait-before-exit-seconds: 0 (its default) writes nothing.
  if (flags.waitBeforeExitSeconds !== undefined && flags.waitBeforeExitSeconds !== '0')
    set(DeprecatedConfigAnnotation.ProxyWaitBeforeExitSeconds, flags.waitBeforeExitSeconds);
  if (flags.ingress) a[INJECT_ANNOTATION] = InjectMode.Ingress;
  return a;
}

function readConfigInput(flags: InjectFlags): InjectorConfigInput {
  const file = (path: string | undefined) =>
    path ? { text: readFileSync(path, 'utf8'), source: path } : undefined;
  let input: InjectorConfigInput = injectorConfigInputFromFiles({
    config: file(flags.config),
    linkerdValues: file(flags.linkerdValues),
  });
  if (flags.identityTrustAnchorsFile) {
    input = { ...input, trustAnchorsPem: readFileSync(flags.identityTrustAnchorsFile, 'utf8') };
  }
  return { ...input, createdBy: input.createdBy ?? `tsmesh/cli ${VERSION}` };
}

const collect = (value: string, previous: string[]) => [...previous, ...value.split(',').filter(Boolean)];

function wholeSeconds(value: string): string {
  // Linkerd's flag is an unsigned integer.
  if (!/^\d{1,9}$/.test(value))
    throw new InvalidArgumentError(`"${value}" is not a whole number of seconds (e.g. 30).`);
  return String(Number(value));
}

export function registerInjectCommands(
  program: Command,
  out: (text: string) => void,
  err: (text: string) => void,
  readStdin: () => Promise<string> = readProcessStdin,
): void {
  program
    .command('inject')
    .description('Add the tsmesh proxy to Kubernetes manifests (annotations for the webhook, or --manual)')
    .argument('<paths...>', 'manifest files or directories, or - for stdin')
    .option('--manual', 'add the proxy and proxy-init here instead of leaving it to the webhook')
    .option('--ingress', 'inject in ingress mode (linkerd.io/inject: ingress)')
    .option('--proxy-image <image>', 'proxy image name')
    .option('--proxy-version <tag>', 'proxy image tag')
    .option('--init-image <image>', 'proxy-init image name')
    .option('--init-image-version <tag>', 'proxy-init image tag')
    .option('--image-pull-policy <policy>', 'Always, IfNotPresent or Never')
    .option('--proxy-log-level <filter>', 'proxy log filter, e.g. warn,linkerd=info')
    .option('--proxy-log-format <format>', 'plain or json')
    .option('--proxy-uid <uid>', 'user id the proxy runs as')
    .option('--proxy-cpu-request <quantity>', 'proxy CPU request')
    .option('--proxy-cpu-limit <quantity>', 'proxy CPU limit')
    .option('--proxy-memory-request <quantity>', 'proxy memory request')
    .option('--proxy-memory-limit <quantity>', 'proxy memory limit')
    .option(
      '--skip-inbound-ports <ports>',
      'inbound ports and ranges that bypass the proxy (repeatable)',
      collect,
      [],
    )
    .option(
      '--skip-outbound-ports <ports>',
      'outbound ports and ranges that bypass the proxy (repeatable)',
      collect,
      [],
    )
    .option('--opaque-ports <ports>', 'ports proxied without protocol detection (repeatable)', collect, [])
    .option('--default-inbound-policy <policy>', 'e.g. all-unauthenticated, all-authenticated, deny')
    .option('--native-sidecar', 'run the proxy as a native sidecar (the default)')
    .option('--no-native-sidecar', 'run the proxy as a regular container with the await hook')
    .option('--enable-debug-sidecar', 'add the linkerd-debug container')
    .option(
      '--wait-before-exit-seconds <seconds>',
      'a preStop hook keeps the proxy up this long after the pod is asked to stop (regular sidecar only)',
      wholeSeconds,
    )
    .option('--config <file>', 'injector values (YAML or JSON InjectorConfig) for --manual')
    .option('--linkerd-values <file>', "or Linkerd's chart values (linkerd-config's values key) for --manual")
    .option('--identity-trust-anchors-file <file>', 'trust anchors PEM given to the proxies (--manual)')
    .option(
      '--ignore-cluster',
      'accepted for Linkerd compatibility: configuration comes from flags and --config',
    )
    .option('-o, --output <format>', 'yaml or json (default: the input format)')
    .action(
      guarded('tsmesh inject', err, async (paths: string[], flags: InjectFlags) => {
        const output = parseOutput(flags.output);
        const annotations = flagAnnotations(flags);
        const config = flags.manual ? createInjectorConfig(readConfigInput(flags)) : undefined;
        if (config && !config.trustAnchorsPem.trim()) {
          err(
            'warning: no trust anchors given (--identity-trust-anchors-file or --config): proxies cannot verify their peers',
          );
        }
        const transform = (object: Workload) => {
          const annotated = annotate(object, annotations, { enable: !config });
          if (!config) return annotated;
          const result = inject(annotated.object, config, undefined, { requireAnnotation: false });
          return result.report.changed ? result : { ...result, object };
        };
        await runTransform(paths, transform, output, out, err, readStdin);
      }),
    );

  program
    .command('uninject')
    .description('Remove the tsmesh (or Linkerd) proxy from Kubernetes manifests')
    .argument('<paths...>', 'manifest files or directories, or - for stdin')
    .option('-o, --output <format>', 'yaml or json (default: the input format)')
    .action(
      guarded('tsmesh uninject', err, async (paths: string[], flags: { output?: string }) => {
        await runTransform(paths, (o) => uninject(o), parseOutput(flags.output), out, err, readStdin);
      }),
    );
}

async function runTransform(
  paths: string[],
  transform: Parameters<typeof transformManifests>[1],
  output: ManifestFormat | undefined,
  out: (text: string) => void,
  err: (text: string) => void,
  readStdin: () => Promise<string>,
): Promise<void> {
  const inputs = await readManifestInputs(paths, readStdin);
  const results = inputs.map((input) =>
    transformManifests(input.text, transform, { source: input.source, output }),
  );
  const format =
    output ?? (results.length > 0 && results.every((r) => r.format === 'json') ? 'json' : 'yaml');
  const parts =
    format === 'yaml'
      ? results.map((r, i) =>
          r.format === 'yaml' ? r : transformManifests(inputs[i]!.text, transform, { output: 'yaml' }),
        )
      : results;
  out(joinOutputs(parts, format));
  const entries = results.flatMap((r) => r.entries);
  err(formatReport(entries));
  const failed = entries.filter((e) => e.status === 'failed');
  if (failed.length) {
    // The manifests are still written (the failed ones unchanged), but the run fails, as Linkerd's
    // inject fails when it cannot render a proxy.
    throw new MeshError(
      MeshErrorCode.InvalidArgument,
      `${failed.length} workload${failed.length > 1 ? 's' : ''} could not be injected (see above)`,
    );
  }
}
