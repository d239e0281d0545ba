// The tsmesh-policy binary's flags (Linkerd's policy-controller names and defaults), parsed once
// into a frozen object. A bad flag is a MeshError (code `config`) naming it; the binary exits 2.
import { parseArgs } from 'node:util';
import {
  DEFAULT_CLUSTER_NETWORKS,
  DEFAULT_OPAQUE_PORTS,
  DefaultInboundPolicy,
  MeshError,
  MeshErrorCode,
  parseDefaultInboundPolicy,
  parseIpNetwork,
} from '@tsmesh/core';

export interface PolicyConfig {
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly admissionHost: string;
  readonly admissionPort: number;
  /** Directory with tls.crt / tls.key for the webhook; without it the webhook is off. */
  readonly admissionCertDir: string | undefined;
  readonly clusterNetworks: readonly string[];
  readonly identityDomain: string;
  readonly clusterDomain: string;
  readonly defaultPolicy: DefaultInboundPolicy;
  readonly defaultOpaquePorts: readonly number[];
  readonly probeNetworks: readonly string[] | undefined;
  readonly kubeconfig: string | undefined;
  readonly controlPlaneNamespace: string;
  readonly globalEgressNetworkNamespace: string;
  /** Proxies honour l5d-retry-* / l5d-*-timeout request headers on Service routes. */
  readonly allowL5dRequestHeaders: boolean;
  /** Local mode: read manifests from this directory instead of the Kubernetes API. */
  readonly sourceDir: string | undefined;
  /** Lease holder identity for status writes (default: $POD_NAME or the host name, plus a suffix). */
  readonly leaseIdentity: string | undefined;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const POLICY_USAGE = `Usage: tsmesh-policy [options]

The tsmesh policy controller: io.linkerd.proxy.inbound.InboundServerPolicies and
io.linkerd.proxy.outbound.OutboundPolicies, the policy validating webhook, route status.

  --grpc-addr HOST:PORT            gRPC (default 0.0.0.0:8090)
  --admin-addr HOST:PORT           /metrics /ready /live (default 0.0.0.0:9990)
  --admission-addr HOST:PORT       validating webhook (default 0.0.0.0:9443)
  --admission-cert-dir DIR         webhook tls.crt/tls.key (webhook off without it)
  --cluster-networks CIDRS         comma list (default ${DEFAULT_CLUSTER_NETWORKS.join(',')})
  --identity-domain NAME           trust domain (default cluster.local)
  --cluster-domain NAME            Service DNS suffix (default cluster.local)
  --default-policy POLICY          ${Object.values(DefaultInboundPolicy).join('|')} (default all-unauthenticated)
  --default-opaque-ports PORTS     comma list / ranges (default ${DEFAULT_OPAQUE_PORTS.join(',')})
  --probe-networks CIDRS           where kubelet probes come from (default 0.0.0.0/0,::/0)
  --kubeconfig FILE                (default in-cluster or ~/.kube/config)
  --control-plane-namespace NS     (default linkerd)
  --global-egress-network-namespace NS  cluster-wide EgressNetworks (default linkerd-egress)
  --allow-l5d-request-headers      proxies honour l5d-retry-*/l5d-*-timeout request headers
  --source-dir DIR                 local mode: manifests from DIR instead of the Kubernetes API
  --lease-identity NAME            holder identity for the status Lease
  --log-level LEVEL                debug|info|warn|error (default info)
  -h, --help
`;

function bad(where: string, message: string, hint?: string): MeshError {
  return new MeshError(MeshErrorCode.Config, message, { where, ...(hint ? { hint } : {}) });
}

function parseAddr(text: string, where: string): [string, number] {
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw bad(where, `"${text}" is not HOST:PORT`, 'e.g. 0.0.0.0:8090');
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
  return [host === '' ? '0.0.0.0' : host, port];
}

function parseCidrs(text: string, where: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw bad(where, 'no networks given', 'write CIDRs such as 10.0.0.0/8,fd00::/8');
  for (const cidr of list) {
    try {
      parseIpNetwork(cidr, where);
    } catch {
      throw bad(where, `"${cidr}" is not a CIDR`, 'write CIDRs such as 10.0.0.0/8,fd00::/8');
    }
  }
  return list;
}

function parsePorts(text: string, where: string): number[] {
  const out = new Set<number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || lo < 1 || hi > 65535 || hi < lo)
      throw bad(where, `"${part}" is not a port or port range`, 'e.g. 25,3306,4000-4010');
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}

export function parsePolicyConfig(argv: readonly string[]): PolicyConfig | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'grpc-addr': { type: 'string' },
        'admin-addr': { type: 'string' },
        'admission-addr': { type: 'string' },
        'admission-cert-dir': { type: 'string' },
        'cluster-networks': { type: 'string' },
        'identity-domain': { type: 'string' },
        'cluster-domain': { type: 'string' },
        'default-policy': { type: 'string' },
        'default-opaque-ports': { type: 'string' },
        'probe-networks': { type: 'string' },
        kubeconfig: { type: 'string' },
        'control-plane-namespace': { type: 'string' },
        'global-egress-network-namespace': { type: 'string' },
        'allow-l5d-request-headers': { type: 'boolean' },
        'source-dir': { type: 'string' },
        'lease-identity': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new MeshError(MeshErrorCode.Config, (err as Error).message, { hint: 'see tsmesh-policy --help' });
  }
  if (values.help) return 'help';
  const [grpcHost, grpcPort] = parseAddr(values['grpc-addr'] ?? '0.0.0.0:8090', '--grpc-addr');
  const [adminHost, adminPort] = parseAddr(values['admin-addr'] ?? '0.0.0.0:9990', '--admin-addr');
  const [admissionHost, admissionPort] = parseAddr(
    values['admission-addr'] ?? '0.0.0.0:9443',
    '--admission-addr',
  );
  const policyText = values['default-policy'] ?? DefaultInboundPolicy.AllUnauthenticated;
  const defaultPolicy = parseDefaultInboundPolicy(policyText);
  if (!defaultPolicy) {
    throw bad(
      '--default-policy',
      `"${policyText}" is not a default policy`,
      `use one of ${Object.values(DefaultInboundPolicy).join(', ')}`,
    );
  }
  const logLevel = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw bad('--log-level', `unknown log level "${logLevel}"`, 'use debug, info, warn or error');
  }
  const name = (flag: string, value: string | undefined, fallback: string) => {
    const v = value ?? fallback;
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(v)) throw bad(flag, `"${v}" is not a DNS name`);
    return v;
  };
  return Object.freeze({
    grpcHost,
    grpcPort,
    adminHost,
    adminPort,
    admissionHost,
    admissionPort,
    admissionCertDir: values['admission-cert-dir'],
    clusterNetworks: Object.freeze(
      values['cluster-networks'] !== undefined
        ? parseCidrs(values['cluster-networks'], '--cluster-networks')
        : [...DEFAULT_CLUSTER_NETWORKS],
    ),
    identityDomain: name('--identity-domain', values['identity-domain'], 'cluster.local'),
    clusterDomain: name('--cluster-domain', values['cluster-domain'], 'cluster.local'),
    defaultPolicy,
    defaultOpaquePorts: Object.freeze(
      values['default-opaque-ports'] !== undefined
        ? parsePorts(values['default-opaque-ports'], '--default-opaque-ports')
        : [...DEFAULT_OPAQUE_PORTS],
    ),
    probeNetworks:
      values['probe-networks'] !== undefined
        ? Object.freeze(parseCidrs(values['probe-networks'], '--probe-networks'))
        : undefined,
    kubeconfig: values.kubeconfig,
    controlPlaneNamespace: name('--control-plane-namespace', values['control-plane-namespace'], 'linkerd'),
    globalEgressNetworkNamespace: name(
      '--global-egress-network-namespace',
      values['global-egress-network-namespace'],
      'linkerd-egress',
    ),
    allowL5dRequestHeaders: values['allow-l5d-request-headers'] === true,
    sourceDir: values['source-dir'],
    leaseIdentity: values['lease-identity'],
    logLevel: logLevel as PolicyConfig['logLevel'],
  });
}
