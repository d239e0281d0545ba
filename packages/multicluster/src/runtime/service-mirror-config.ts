// Flags of tsmesh-service-mirror, parsed once into a frozen config. The names are Linkerd's
// service-mirror flags (`-namespace`, `-log-level`, …, the Link name as the argument), so the
// Deployment `tsmesh multicluster link` renders reads like Linkerd's; Go-style single-dash flags are
// accepted. Linkerd flags that change nothing here (-event-requeue-limit, -enable-pprof, …) are
// accepted and ignored.
import { parseArgs } from 'node:util';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { LogLevel } from '@tsmesh/kube';

export const PROGRAM = 'tsmesh-service-mirror';

export interface ServiceMirrorConfig {
  readonly linkName: string;
  readonly namespace: string;
  readonly kubeconfig: string | undefined;
  readonly logLevel: LogLevel;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly probeGateway: boolean;
  readonly repairPeriodMs: number;
}

export const SERVICE_MIRROR_HELP = `Usage: ${PROGRAM} [flags] <link-name>

Mirrors the Services a Link selects from the target cluster into this one.

Flags:
  -namespace NAME          namespace of the Link and its credentials Secret (default linkerd-multicluster)
  -kubeconfig PATH         kubeconfig of this cluster (default: in-cluster / KUBECONFIG)
  -log-level LEVEL         debug, info, warn or error (default info)
  -admin-addr HOST:PORT    /metrics, /ready, /live (default 0.0.0.0:9999)
  -probe-gateway BOOL      probe the gateway (default true)
  -endpoint-refresh-period SECONDS   re-resolve the gateway and repair mirrors (default 60)
  -help
`;

const IGNORED = [
  'event-requeue-limit',
  'enable-headless-services',
  'enable-namespace-creation',
  'enable-pprof',
  'log-format',
];

function bad(flag: string, message: string, hint?: string): MeshError {
  return new MeshError(MeshErrorCode.Config, message, { where: `-${flag}`, ...(hint ? { hint } : {}) });
}

export function parseServiceMirrorConfig(argv: readonly string[]): ServiceMirrorConfig | { help: string } {
  const args = argv.map((a) => (/^-[^-]/.test(a) && a.length > 2 ? `-${a}` : a));
  const options = {
    namespace: { type: 'string' },
    kubeconfig: { type: 'string' },
    'log-level': { type: 'string' },
    'admin-addr': { type: 'string' },
    'probe-gateway': { type: 'string' },
    'endpoint-refresh-period': { type: 'string' },
    help: { type: 'boolean' },
    ...Object.fromEntries(IGNORED.map((name) => [name, { type: 'string' }])),
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new MeshError(MeshErrorCode.Config, (err as Error).message, { hint: `see ${PROGRAM} -help` });
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return { help: SERVICE_MIRROR_HELP };
  const [linkName, ...extra] = parsed.positionals;
  if (!linkName || extra.length > 0) {
    throw new MeshError(MeshErrorCode.Config, 'expected exactly one argument, the Link name', {
      hint: `${PROGRAM} -namespace linkerd-multicluster east`,
    });
  }
  const logLevel = (v['log-level'] as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw bad('log-level', `unknown level ${JSON.stringify(logLevel)}`, 'debug, info, warn or error');
  }
  const admin = (v['admin-addr'] as string | undefined) ?? '0.0.0.0:9999';
  const m = /^(.*):(\d{1,5})$/.exec(admin);
  const adminPort = m ? Number(m[2]) : NaN;
  if (!m || adminPort > 65535)
    throw bad('admin-addr', `${JSON.stringify(admin)} is not HOST:PORT`, 'e.g. 0.0.0.0:9999');
  const probe = (v['probe-gateway'] as string | undefined) ?? 'true';
  if (probe !== 'true' && probe !== 'false') throw bad('probe-gateway', 'must be true or false');
  const refresh = (v['endpoint-refresh-period'] as string | undefined) ?? '60';
  const refreshSeconds = /^\d+(\.\d+)?s?$/.test(refresh) ? parseFloat(refresh) : NaN;
  if (!(refreshSeconds > 0))
    throw bad('endpoint-refresh-period', `${JSON.stringify(refresh)} is not a number of seconds`);
  return Object.freeze({
    linkName,
    namespace: (v.namespace as string | undefined) ?? 'linkerd-multicluster',
    kubeconfig: v.kubeconfig as string | undefined,
    logLevel: logLevel as LogLevel,
    adminHost: m[1] === '' ? '0.0.0.0' : (m[1] as string),
    adminPort,
    probeGateway: probe === 'true',
    repairPeriodMs: refreshSeconds * 1000,
  });
}
