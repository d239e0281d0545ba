// tsmesh-destination's configuration: Linkerd's destination flags (and the sp-validator's in the
// `sp-validator` mode), parsed once into a frozen object. Bad values stop start-up naming the flag.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { parsePortSet } from '../domain/index.js';
import { formatUsage, parseGoFlags, type FlagSpec } from './go-flags.js';

export const PROGRAM = 'tsmesh-destination';

export interface DestinationConfig {
  readonly mode: 'destination' | 'sp-validator';
  readonly host: string;
  readonly port: number;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly controllerNamespace: string;
  readonly clusterDomain: string;
  readonly trustDomain: string;
  readonly defaultOpaquePorts: readonly number[];
  readonly enableH2Upgrade: boolean;
  readonly enableIpv6: boolean;
  readonly kubeconfig: string | undefined;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

const COMMON: FlagSpec = {
  addr: { type: 'string', usage: 'address to serve on (default ":8086"; sp-validator ":8443")' },
  'admin-addr': {
    type: 'string',
    usage: 'address of the admin server: /metrics /ready /live (default ":9996"; sp-validator ":9997")',
  },
  kubeconfig: { type: 'string', usage: 'path to a kubeconfig (default: in-cluster, then ~/.kube/config)' },
  'log-level': { type: 'string', usage: 'debug, info, warn or error (default "info")' },
  help: { type: 'boolean', usage: 'print this help' },
  h: { type: 'boolean', usage: 'print this help' },
};

export const DESTINATION_FLAGS: FlagSpec = {
  ...COMMON,
  'controller-namespace': { type: 'string', usage: 'namespace of the control plane (default "linkerd")' },
  'cluster-domain': { type: 'string', usage: 'Kubernetes cluster domain (default "cluster.local")' },
  'identity-trust-domain': { type: 'string', usage: 'identity trust domain (default "cluster.local")' },
  'default-opaque-ports': {
    type: 'string',
    usage: 'ports and ranges treated as opaque by default (default "25,587,3306,4444,5432,6379,9300,11211")',
  },
  'enable-h2-upgrade': { type: 'boolean', usage: 'hint HTTP/2 for meshed endpoints (default true)' },
  'enable-ipv6': { type: 'boolean', usage: 'serve IPv6 endpoints (default false)' },
  'enable-endpoint-slices': {
    type: 'boolean',
    usage: 'accepted for compatibility; EndpointSlices are always used',
  },
};

export const SP_VALIDATOR_FLAGS: FlagSpec = {
  ...COMMON,
  'tls-cert-file': { type: 'string', usage: 'serving certificate (default "/var/run/linkerd/tls/tls.crt")' },
  'tls-key-file': { type: 'string', usage: 'serving key (default "/var/run/linkerd/tls/tls.key")' },
};

export const DESTINATION_USAGE =
  formatUsage(
    PROGRAM,
    'The tsmesh destination service (io.linkerd.proxy.destination.Destination) over the Kubernetes API.',
    DESTINATION_FLAGS,
  ) + `\n${PROGRAM} sp-validator [flags]: the ServiceProfile validating webhook (-help for its flags).\n`;
export const SP_VALIDATOR_USAGE = formatUsage(
  `${PROGRAM} sp-validator`,
  'The ServiceProfile validating admission webhook.',
  SP_VALIDATOR_FLAGS,
);

function parseAddr(text: string, flag: string): [string, number] {
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new MeshError(MeshErrorCode.Config, `"${text}" is not HOST:PORT`, {
      where: flag,
      hint: 'e.g. :8086 or 127.0.0.1:8086',
    });
  }
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
  return [host === '' ? '0.0.0.0' : host, port];
}

function nonEmpty(value: string, flag: string): string {
  if (value.trim() === '') throw new MeshError(MeshErrorCode.Config, 'must not be empty', { where: flag });
  return value;
}

export function parseDestinationConfig(argv: readonly string[]): DestinationConfig | { help: string } {
  const mode = argv[0] === 'sp-validator' ? 'sp-validator' : 'destination';
  const args = mode === 'sp-validator' ? argv.slice(1) : argv;
  const spec = mode === 'sp-validator' ? SP_VALIDATOR_FLAGS : DESTINATION_FLAGS;
  const { values, rest } = parseGoFlags(args, spec, PROGRAM);
  if (values.get('help') === true || values.get('h') === true) {
    return { help: mode === 'sp-validator' ? SP_VALIDATOR_USAGE : DESTINATION_USAGE };
  }
  if (rest.length > 0) {
    throw new MeshError(MeshErrorCode.Config, `unexpected argument "${rest[0]}"`, {
      hint: `see ${PROGRAM} -help`,
    });
  }
  const str = (name: string, fallback: string) => {
    const v = values.get(name);
    return typeof v === 'string' ? v : fallback;
  };
  const bool = (name: string, fallback: boolean) => {
    const v = values.get(name);
    return typeof v === 'boolean' ? v : fallback;
  };
  const [host, port] = parseAddr(str('addr', mode === 'sp-validator' ? ':8443' : ':8086'), '-addr');
  const [adminHost, adminPort] = parseAddr(
    str('admin-addr', mode === 'sp-validator' ? ':9997' : ':9996'),
    '-admin-addr',
  );
  const logLevel = str('log-level', 'info');
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new MeshError(MeshErrorCode.Config, `unknown log level "${logLevel}"`, {
      where: '-log-level',
      hint: 'use debug, info, warn or error',
    });
  }
  const opaqueText = str('default-opaque-ports', '25,587,3306,4444,5432,6379,9300,11211');
  const opaque = parsePortSet(opaqueText);
  if (opaque.invalid.length > 0 || opaque.names.length > 0) {
    throw new MeshError(
      MeshErrorCode.Config,
      `"${[...opaque.invalid, ...opaque.names].join(',')}" is not a port or port range`,
      {
        where: '-default-opaque-ports',
        hint: 'e.g. 25,587,3306-3310',
      },
    );
  }
  return Object.freeze({
    mode,
    host,
    port,
    adminHost,
    adminPort,
    controllerNamespace: nonEmpty(str('controller-namespace', 'linkerd'), '-controller-namespace'),
    clusterDomain: nonEmpty(str('cluster-domain', 'cluster.local'), '-cluster-domain'),
    trustDomain: str('identity-trust-domain', 'cluster.local'),
    defaultOpaquePorts: Object.freeze([...opaque.ports].sort((a, b) => a - b)),
    enableH2Upgrade: bool('enable-h2-upgrade', true),
    enableIpv6: bool('enable-ipv6', false),
    kubeconfig: values.get('kubeconfig') as string | undefined,
    tlsCertFile: str('tls-cert-file', '/var/run/linkerd/tls/tls.crt'),
    tlsKeyFile: str('tls-key-file', '/var/run/linkerd/tls/tls.key'),
    logLevel: logLevel as DestinationConfig['logLevel'],
  });
}
