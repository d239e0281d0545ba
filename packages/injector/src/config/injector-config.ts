// The injector's configuration: what Linkerd keeps in the linkerd-config values (proxy image,
// ports, resources, identity, control-plane addresses), with Linkerd's defaults. Built once from a
// partial input, validated and deeply frozen; inject() never reads anything else.
import {
  DEFAULT_OPAQUE_PORTS,
  DEFAULT_PROXY_LOG,
  DEFAULT_PROXY_UID,
  DefaultInboundPolicy,
  DefaultPort,
  ControlPlanePort,
  MeshError,
  MeshErrorCode,
} from '@tsmesh/core';
import { parse as parseYaml } from 'yaml';
import { VERSION } from '../version.js';

export interface ResourceConstraint {
  readonly request?: string;
  readonly limit?: string;
}

export interface ProxyResources {
  readonly cpu: ResourceConstraint;
  readonly memory: ResourceConstraint;
  readonly ephemeralStorage: ResourceConstraint;
}

export interface ImageConfig {
  readonly name: string;
  readonly version: string;
  readonly pullPolicy: string;
}

export interface ProbeTiming {
  readonly initialDelaySeconds: number;
  readonly timeoutSeconds?: number;
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
}

export interface Capabilities {
  readonly add?: readonly string[];
  readonly drop?: readonly string[];
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: unknown;
}

export interface ProxyConfig {
  readonly image: ImageConfig;
  readonly ports: {
    readonly inbound: number;
    readonly outbound: number;
    readonly admin: number;
    readonly control: number;
  };
  readonly uid: number;
  /** Unset: no runAsGroup and no --proxy-gid. */
  readonly gid: number | undefined;
  readonly logLevel: string;
  readonly logFormat: 'plain' | 'json';
  /** `insecure` keeps header and request logging; `off` appends Linkerd's filters that hide them. */
  readonly logHttpHeaders: 'off' | 'insecure';
  readonly resources: ProxyResources;
  readonly defaultInboundPolicy: DefaultInboundPolicy;
  /** Ports proxied without protocol detection, filtered to the ports a pod exposes. */
  readonly opaquePorts: string;
  readonly requireIdentityOnInboundPorts: string | undefined;
  readonly enableShutdownEndpoint: boolean;
  /** The proxy as an init container with restartPolicy Always (Linkerd's default since 2.20). */
  readonly nativeSidecar: boolean;
  /** App containers start once the proxy is ready. */
  readonly await: boolean;
  /** postStart hook command for the non-native sidecar; `{port}` is replaced by the admin port. */
  readonly awaitCommand: readonly string[];
  readonly inboundConnectTimeout: string;
  readonly outboundConnectTimeout: string;
  readonly outboundDiscoveryCacheUnusedTimeout: string;
  readonly inboundDiscoveryCacheUnusedTimeout: string;
  readonly controlStreams: {
    readonly initialTimeout: string;
    readonly idleTimeout: string;
    readonly lifetime: string;
  };
  readonly shutdownGracePeriod: string | undefined;
  /**
   * Linkerd's `proxy.waitBeforeExitSeconds`: a preStop hook sleeps this long before the proxy gets
   * SIGTERM (regular sidecar only; 0: no hook). Pods override it with
   * `config.alpha.linkerd.io/proxy-wait-before-exit-seconds`.
   */
  readonly waitBeforeExitSeconds: number;
  readonly accessLog: string | undefined;
  readonly enableExternalProfiles: boolean;
  readonly metricsHostnameLabels: boolean;
  readonly disableIpv6: boolean;
  readonly livenessProbe: ProbeTiming;
  readonly readinessProbe: ProbeTiming;
  readonly startupProbe: ProbeTiming;
  /** Extra env for every proxy (overridden by name by `config.linkerd.io/proxy-additional-env`). */
  readonly additionalEnv: readonly EnvVar[];
  readonly cores: { readonly minimum: number };
  /** securityContext capabilities of the proxy (e.g. `{ drop: ['ALL'] }` for Pod Security restricted). */
  readonly capabilities: Capabilities | undefined;
  /**
   * Take the trust anchors from the `linkerd-identity-trust-roots` ConfigMap instead of the value
   * (Linkerd does this for the control plane's own proxies, which live beside that ConfigMap).
   */
  readonly loadTrustBundleFromConfigMap: boolean;
}

export interface ProxyInitConfig {
  readonly image: ImageConfig;
  /** The init command run in that image before its arguments. */
  readonly command: readonly string[];
  readonly ignoreInboundPorts: string;
  readonly ignoreOutboundPorts: string;
  readonly skipSubnets: string;
  readonly iptablesMode: 'nft' | 'legacy';
  readonly runAsUser: number;
  readonly runAsGroup: number;
  readonly closeWaitTimeoutSecs: number;
  /** Added to NET_ADMIN and NET_RAW, and dropped. */
  readonly capabilities: Capabilities | undefined;
}

export interface InjectorConfig {
  readonly controlPlaneNamespace: string;
  readonly clusterDomain: string;
  readonly trustDomain: string;
  /** PEM bundle of the identity trust anchors, given to every proxy. */
  readonly trustAnchorsPem: string;
  readonly clusterNetworks: string;
  /** Value of `linkerd.io/created-by` on injected pods. */
  readonly createdBy: string;
  readonly proxy: ProxyConfig;
  readonly proxyInit: ProxyInitConfig;
  /** With the CNI plugin, no linkerd-init container (and no NET_ADMIN) is added. */
  readonly cniEnabled: boolean;
  readonly debugImage: ImageConfig;
  readonly destinationAddr: string;
  readonly identityAddr: string;
  readonly policyAddr: string;
}

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};
export type InjectorConfigInput = DeepPartial<InjectorConfig>;

export const DEFAULT_PROXY_IMAGE = 'ghcr.io/tsmesh/proxy';
export const DEFAULT_DEBUG_IMAGE = 'ghcr.io/tsmesh/debug';
export const DEFAULT_CLUSTER_NETWORKS = '10.0.0.0/8,100.64.0.0/10,172.16.0.0/12,192.168.0.0/16,fd00::/8';

/** Linkerd's defaults, with tsmesh's images. Service addresses follow the namespace and domain. */
export function defaultInjectorConfig(): InjectorConfig {
  return createInjectorConfig({});
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function merge<T>(base: T, input: unknown): T {
  if (!isObject(input) || !isObject(base)) return (input === undefined ? base : input) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    // Own members only, defined rather than assigned: a key named `__proto__` in a config file is
    // a member like any other, not the object's prototype.
    const cur = Object.hasOwn(out, k) ? out[k] : undefined;
    Object.defineProperty(out, k, {
      value: isObject(v) && isObject(cur) ? merge(cur, v) : v,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out as T;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const PORT_LIST = /^(\d{1,5}(-\d{1,5})?)(,\s*\d{1,5}(-\d{1,5})?)*$/;

/** Builds a frozen config from defaults and a partial input; throws MeshError naming a bad field. */
export function createInjectorConfig(input: InjectorConfigInput = {}): InjectorConfig {
  const ns = input.controlPlaneNamespace ?? 'linkerd';
  const domain = input.clusterDomain ?? 'cluster.local';
  const version = input.proxy?.image?.version ?? VERSION;
  const proxyImage: ImageConfig = {
    name: DEFAULT_PROXY_IMAGE,
    version,
    pullPolicy: 'IfNotPresent',
  };
  const base: InjectorConfig = {
    controlPlaneNamespace: ns,
    clusterDomain: domain,
    trustDomain: domain,
    trustAnchorsPem: '',
    clusterNetworks: DEFAULT_CLUSTER_NETWORKS,
    createdBy: `tsmesh/proxy-injector ${VERSION}`,
    proxy: {
      image: proxyImage,
      ports: {
        inbound: DefaultPort.Inbound,
        outbound: DefaultPort.Outbound,
        admin: DefaultPort.Admin,
        control: DefaultPort.Control,
      },
      uid: DEFAULT_PROXY_UID,
      gid: undefined,
      logLevel: DEFAULT_PROXY_LOG,
      logFormat: 'plain',
      logHttpHeaders: 'off',
      resources: { cpu: {}, memory: {}, ephemeralStorage: {} },
      defaultInboundPolicy: DefaultInboundPolicy.AllUnauthenticated,
      opaquePorts: DEFAULT_OPAQUE_PORTS.join(','),
      requireIdentityOnInboundPorts: undefined,
      enableShutdownEndpoint: false,
      nativeSidecar: true,
      await: true,
      // Waits for the proxy's /ready, then runs a no-op; --no-shutdown keeps the proxy up after it.
      awaitCommand: [
        'tsmesh-proxy',
        'await',
        '--timeout',
        '2m',
        '--port',
        '{port}',
        '--no-shutdown',
        '--',
        'tsmesh-proxy',
        '--version',
      ],
      inboundConnectTimeout: '100ms',
      outboundConnectTimeout: '1000ms',
      outboundDiscoveryCacheUnusedTimeout: '5s',
      inboundDiscoveryCacheUnusedTimeout: '90s',
      controlStreams: { initialTimeout: '3s', idleTimeout: '5m', lifetime: '1h' },
      shutdownGracePeriod: undefined,
      waitBeforeExitSeconds: 0,
      accessLog: undefined,
      enableExternalProfiles: false,
      metricsHostnameLabels: false,
      disableIpv6: true,
      livenessProbe: { initialDelaySeconds: 10, timeoutSeconds: 1 },
      readinessProbe: { initialDelaySeconds: 2, timeoutSeconds: 1 },
      startupProbe: { initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 120 },
      additionalEnv: [],
      cores: { minimum: 1 },
      capabilities: undefined,
      loadTrustBundleFromConfigMap: false,
    },
    proxyInit: {
      // Our proxy image carries proxy-init (as Linkerd's does since 2.20).
      image: {
        name: input.proxy?.image?.name ?? proxyImage.name,
        version,
        pullPolicy: input.proxy?.image?.pullPolicy ?? proxyImage.pullPolicy,
      },
      command: ['tsmesh-proxy', 'init'],
      ignoreInboundPorts: '4567,4568',
      ignoreOutboundPorts: '4567,4568',
      skipSubnets: '',
      iptablesMode: 'nft',
      runAsUser: 65534,
      runAsGroup: 65534,
      closeWaitTimeoutSecs: 0,
      capabilities: undefined,
    },
    cniEnabled: false,
    debugImage: { name: DEFAULT_DEBUG_IMAGE, version, pullPolicy: 'IfNotPresent' },
    destinationAddr: `linkerd-dst-headless.${ns}.svc.${domain}.:${ControlPlanePort.Destination}`,
    identityAddr: `linkerd-identity-headless.${ns}.svc.${domain}.:${ControlPlanePort.Identity}`,
    policyAddr: `linkerd-policy.${ns}.svc.${domain}.:${ControlPlanePort.Policy}`,
  };
  const config = merge(base, input);
  validate(config);
  return deepFreeze(config);
}

function fail(where: string, message: string, hint?: string): never {
  throw new MeshError(MeshErrorCode.Config, message, { where: `injector config ${where}`, hint });
}

function validate(c: InjectorConfig): void {
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (!dns.test(c.controlPlaneNamespace))
    fail('controlPlaneNamespace', `"${c.controlPlaneNamespace}" is not a namespace name`);
  if (!dns.test(c.clusterDomain)) fail('clusterDomain', `"${c.clusterDomain}" is not a DNS domain`);
  if (!dns.test(c.trustDomain)) fail('trustDomain', `"${c.trustDomain}" is not a DNS domain`);
  if (c.trustAnchorsPem.trim() && !c.trustAnchorsPem.includes('-----BEGIN CERTIFICATE-----')) {
    fail('trustAnchorsPem', 'the trust anchors are not PEM certificates', 'give the CA bundle, e.g. ca.crt');
  }
  for (const [name, port] of Object.entries(c.proxy.ports)) {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      fail(`proxy.ports.${name}`, `${port} is not a port`);
  }
  if (!Number.isInteger(c.proxy.uid) || c.proxy.uid < 0) fail('proxy.uid', `${c.proxy.uid} is not a user id`);
  if (!Object.values(DefaultInboundPolicy).includes(c.proxy.defaultInboundPolicy)) {
    fail(
      'proxy.defaultInboundPolicy',
      `unknown policy "${c.proxy.defaultInboundPolicy}"`,
      `use one of ${Object.values(DefaultInboundPolicy).join(', ')}`,
    );
  }
  for (const [where, list] of [
    ['proxy.opaquePorts', c.proxy.opaquePorts],
    ['proxyInit.ignoreInboundPorts', c.proxyInit.ignoreInboundPorts],
    ['proxyInit.ignoreOutboundPorts', c.proxyInit.ignoreOutboundPorts],
  ] as const) {
    if (list !== '' && !PORT_LIST.test(list))
      fail(where, `"${list}" is not a list of ports and ranges`, 'e.g. 25,443,8000-8100');
  }
  if (!['nft', 'legacy'].includes(c.proxyInit.iptablesMode)) {
    fail('proxyInit.iptablesMode', `"${c.proxyInit.iptablesMode}" is not nft or legacy`);
  }
  const wait = c.proxy.waitBeforeExitSeconds;
  if (!Number.isInteger(wait) || wait < 0)
    fail('proxy.waitBeforeExitSeconds', `${wait} is not a whole number of seconds`);
  if (wait > 0 && c.proxy.nativeSidecar) {
    // Linkerd's proxy partial fails the same way.
    fail(
      'proxy.waitBeforeExitSeconds',
      'proxy.nativeSidecar and waitBeforeExitSeconds cannot be used simultaneously',
      'set proxy.nativeSidecar to false, or waitBeforeExitSeconds to 0',
    );
  }
  if (!['plain', 'json'].includes(c.proxy.logFormat))
    fail('proxy.logFormat', `"${c.proxy.logFormat}" is not plain or json`);
}

/** Reads injector values written as YAML or JSON (a file given to the binary or the CLI). */
export function parseInjectorConfigText(text: string, where: string): InjectorConfigInput {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new MeshError(MeshErrorCode.Config, `the injector values do not parse: ${(err as Error).message}`, {
      where,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MeshError(MeshErrorCode.Config, 'the injector values are not a mapping', { where });
  }
  return parsed as InjectorConfigInput;
}
