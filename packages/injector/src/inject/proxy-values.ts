// Per-pod values: the injector config with the pod's (or its namespace's) `config.linkerd.io/*`
// annotations applied, as Linkerd's injector applies them. A value that does not parse is ignored
// with a warning (Linkerd logs the same and carries on), so a typo never blocks a pod.
import {
  ConfigAnnotation,
  DefaultInboundPolicy,
  DeprecatedConfigAnnotation,
  INJECT_ANNOTATION,
  InjectMode,
  parseDurationMs,
} from '@tsmesh/core';
import type { EnvVar, ImageConfig, InjectorConfig, ProxyConfig, ProxyInitConfig } from '../config/index.js';

/** Annotations read only by this injector besides the ones in core's vocabulary. */
export const ExtraConfigAnnotation = {
  InitImage: 'config.linkerd.io/init-image',
  InitImageVersion: 'config.linkerd.io/init-image-version',
  DisableIdentity: 'config.linkerd.io/disable-identity',
} as const;

/** Every annotation a namespace can pass on to its pods (and a pod can set). */
export const CONFIG_ANNOTATIONS: readonly string[] = Object.freeze([
  ...Object.values(ConfigAnnotation).filter((a) => a !== ConfigAnnotation.AdmissionWebhooks),
  ...Object.values(DeprecatedConfigAnnotation),
  ...Object.values(ExtraConfigAnnotation),
]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

export interface ProxyValues {
  proxy: Mutable<Omit<ProxyConfig, 'additionalEnv' | 'awaitCommand'>> & {
    additionalEnv: EnvVar[];
    awaitCommand: readonly string[];
  };
  proxyInit: Mutable<Omit<ProxyInitConfig, 'command'>> & { command: readonly string[] };
  debugImage: Mutable<ImageConfig>;
  isIngress: boolean;
  isGateway: boolean;
  debugSidecar: boolean;
  /** Seconds the proxy's preStop hook sleeps (`config.alpha.linkerd.io/proxy-wait-before-exit-seconds`). */
  waitBeforeExitSeconds: number;
  /**
   * Why these values cannot be rendered (Linkerd's proxy partial fails the same way): the pod is
   * not injected and the webhook refuses it with this message.
   */
  conflict: string | undefined;
  cores: number | undefined;
  coresMaxRatio: string | undefined;
  podInboundPorts: string | undefined;
  opaquePortsOverride: string | undefined;
  disableOutboundDetectTimeout: boolean;
  disableInboundDetectTimeout: boolean;
  runInitAsRoot: boolean;
}

const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkMGTPE]|[KMGTPE]i)?$/;
const PORT_ITEM = /^(\d{1,5})(-(\d{1,5}))?$/;
const BOOL_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** CPU quantity in cores (`500m` → 0.5), or undefined. */
export function cpuCores(quantity: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity.trim());
  if (!m) return undefined;
  return Number(m[1]) / (m[2] ? 1000 : 1);
}

/** A port list with ranges (`25,8000-8100`), or undefined when any item is not a port or range. */
export function parsePortList(text: string): { from: number; to: number }[] | undefined {
  const out: { from: number; to: number }[] = [];
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const m = PORT_ITEM.exec(item);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (from < 1 || to > 65535 || to < from) return undefined;
    out.push({ from, to });
  }
  return out;
}

export function formatPortRanges(ranges: readonly { from: number; to: number }[]): string {
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',');
}

function parseBool(text: string): boolean | undefined {
  if (BOOL_TRUE.has(text)) return true;
  if (BOOL_FALSE.has(text)) return false;
  return undefined;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * Applies pod annotations (namespace annotations already merged in underneath) to the config.
 * `namedPorts` resolves named container ports in opaque-ports.
 */
export function resolveProxyValues(
  config: InjectorConfig,
  annotations: Readonly<Record<string, string>>,
  namedPorts: ReadonlyMap<string, number>,
  warn: (message: string) => void,
): ProxyValues {
  const v: ProxyValues = {
    proxy: clone(config.proxy) as ProxyValues['proxy'],
    proxyInit: clone(config.proxyInit) as ProxyValues['proxyInit'],
    debugImage: { ...config.debugImage },
    isIngress: false,
    isGateway: false,
    debugSidecar: false,
    waitBeforeExitSeconds: config.proxy.waitBeforeExitSeconds,
    conflict: undefined,
    cores: undefined,
    coresMaxRatio: undefined,
    podInboundPorts: undefined,
    opaquePortsOverride: undefined,
    disableOutboundDetectTimeout: false,
    disableInboundDetectTimeout: false,
    runInitAsRoot: false,
  };
  const get = (key: string): string | undefined =>
    Object.hasOwn(annotations, key) ? annotations[key] : undefined;
  const bad = (key: string, value: string, expected: string) =>
    warn(`ignored ${key}="${value}": expected ${expected}`);
  const str = (key: string, apply: (value: string) => void) => {
    const value = get(key);
    if (value !== undefined) apply(value);
  };
  const bool = (key: string, apply: (value: boolean) => void) =>
    str(key, (value) => {
      const b = parseBool(value);
      if (b === undefined) bad(key, value, 'true or false');
      else apply(b);
    });
  const port = (key: string, apply: (value: number) => void) =>
    str(key, (value) => {
      const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
      if (!(n >= 1 && n <= 65535)) bad(key, value, 'a port number');
      else apply(n);
    });
  const duration = (key: string, apply: (ms: number) => void) =>
    str(key, (value) => {
      const ms = parseDurationMs(value, { units: ['ms', 's', 'm', 'h'] });
      if (ms === undefined) bad(key, value, 'a duration such as 500ms, 10s or 1m');
      else apply(ms);
    });
  const quantity = (key: string, apply: (value: string) => void) =>
    str(key, (value) => {
      if (!QUANTITY.test(value)) bad(key, value, 'a Kubernetes quantity such as 100m, 1, 64Mi');
      else apply(value);
    });
  const ports = (key: string, apply: (value: string) => void) =>
    str(key, (value) => {
      const parsed = parsePortList(value);
      if (!parsed) bad(key, value, 'ports and ranges such as 25,8000-8100');
      else apply(formatPortRanges(parsed));
    });

  str(INJECT_ANNOTATION, (value) => {
    v.isIngress = value === InjectMode.Ingress;
  });
  str(ConfigAnnotation.ProxyImage, (value) => (v.proxy.image.name = value));
  str(ConfigAnnotation.ProxyVersion, (value) => (v.proxy.image.version = value));
  str(ConfigAnnotation.ImagePullPolicy, (value) => {
    if (!['Always', 'IfNotPresent', 'Never'].includes(value))
      return bad(ConfigAnnotation.ImagePullPolicy, value, 'Always, IfNotPresent or Never');
    v.proxy.image.pullPolicy = value;
    v.proxyInit.image.pullPolicy = value;
  });
  str(ExtraConfigAnnotation.InitImage, (value) => (v.proxyInit.image.name = value));
  str(ExtraConfigAnnotation.InitImageVersion, (value) => (v.proxyInit.image.version = value));
  port(ConfigAnnotation.ControlPort, (n) => (v.proxy.ports.control = n));
  port(ConfigAnnotation.InboundPort, (n) => (v.proxy.ports.inbound = n));
  port(ConfigAnnotation.AdminPort, (n) => (v.proxy.ports.admin = n));
  port(ConfigAnnotation.OutboundPort, (n) => (v.proxy.ports.outbound = n));
  ports(ConfigAnnotation.PodInboundPorts, (value) => (v.podInboundPorts = value));
  str(ConfigAnnotation.ProxyLogLevel, (value) => (v.proxy.logLevel = value));
  str(ConfigAnnotation.ProxyLogFormat, (value) => {
    if (value !== 'plain' && value !== 'json')
      return bad(ConfigAnnotation.ProxyLogFormat, value, 'plain or json');
    v.proxy.logFormat = value;
  });
  str(ConfigAnnotation.ProxyLogHttpHeaders, (value) => {
    if (value !== 'off' && value !== 'insecure')
      return bad(ConfigAnnotation.ProxyLogHttpHeaders, value, 'off or insecure');
    v.proxy.logHttpHeaders = value;
  });
  ports(
    ConfigAnnotation.ProxyRequireIdentityInboundPorts,
    (value) => (v.proxy.requireIdentityOnInboundPorts = value),
  );
  duration(
    ConfigAnnotation.ProxyOutboundConnectTimeout,
    (ms) => (v.proxy.outboundConnectTimeout = `${ms}ms`),
  );
  duration(ConfigAnnotation.ProxyInboundConnectTimeout, (ms) => (v.proxy.inboundConnectTimeout = `${ms}ms`));
  duration(
    ConfigAnnotation.ProxyOutboundDiscoveryCacheUnusedTimeout,
    (ms) => (v.proxy.outboundDiscoveryCacheUnusedTimeout = `${Math.floor(ms / 1000)}s`),
  );
  duration(
    ConfigAnnotation.ProxyInboundDiscoveryCacheUnusedTimeout,
    (ms) => (v.proxy.inboundDiscoveryCacheUnusedTimeout = `${Math.floor(ms / 1000)}s`),
  );
  bool(
    ConfigAnnotation.ProxyDisableOutboundProtocolDetectTimeout,
    (b) => (v.disableOutboundDetectTimeout = b),
  );
  bool(ConfigAnnotation.ProxyDisableInboundProtocolDetectTimeout, (b) => (v.disableInboundDetectTimeout = b));
  duration(ConfigAnnotation.ShutdownGracePeriod, (ms) => (v.proxy.shutdownGracePeriod = `${ms}ms`));
  bool(ConfigAnnotation.EnableGateway, (b) => (v.isGateway = b));
  // Linkerd parses it as an unsigned integer (strconv.ParseUint) and ignores it, with a warning,
  // otherwise.
  str(DeprecatedConfigAnnotation.ProxyWaitBeforeExitSeconds, (value) => {
    if (!/^\d{1,9}$/.test(value))
      return bad(
        DeprecatedConfigAnnotation.ProxyWaitBeforeExitSeconds,
        value,
        'a whole number of seconds, e.g. 30',
      );
    v.waitBeforeExitSeconds = Number(value);
  });
  // The GA name wins over the beta one, which wins over the alpha one.
  for (const key of [
    DeprecatedConfigAnnotation.AlphaProxyEnableNativeSidecar,
    DeprecatedConfigAnnotation.BetaProxyEnableNativeSidecar,
    ConfigAnnotation.ProxyEnableNativeSidecar,
  ]) {
    bool(key, (b) => (v.proxy.nativeSidecar = b));
  }
  quantity(ConfigAnnotation.ProxyCpuRequest, (q) => (v.proxy.resources.cpu.request = q));
  quantity(ConfigAnnotation.ProxyMemoryRequest, (q) => (v.proxy.resources.memory.request = q));
  quantity(
    ConfigAnnotation.ProxyEphemeralStorageRequest,
    (q) => (v.proxy.resources.ephemeralStorage.request = q),
  );
  quantity(ConfigAnnotation.ProxyCpuLimit, (q) => (v.proxy.resources.cpu.limit = q));
  quantity(ConfigAnnotation.ProxyMemoryLimit, (q) => (v.proxy.resources.memory.limit = q));
  quantity(
    ConfigAnnotation.ProxyEphemeralStorageLimit,
    (q) => (v.proxy.resources.ephemeralStorage.limit = q),
  );
  str(ConfigAnnotation.ProxyCpuRatioLimit, (value) => {
    const n = Number(value);
    if (!(n > 0 && n <= 1)) return bad(ConfigAnnotation.ProxyCpuRatioLimit, value, 'a ratio in (0, 1]');
    v.coresMaxRatio = value;
  });
  const limit = v.proxy.resources.cpu.limit;
  if (limit !== undefined) {
    const cores = cpuCores(limit);
    // Worker threads: whole cores of the limit, at least one (Linkerd's ToWholeCPUCores).
    if (cores !== undefined) v.cores = Math.max(1, Math.ceil(cores));
  }
  str(ConfigAnnotation.ProxyUid, (value) => {
    if (!/^\d{1,10}$/.test(value)) return bad(ConfigAnnotation.ProxyUid, value, 'a user id');
    v.proxy.uid = Number(value);
  });
  str(ConfigAnnotation.ProxyGid, (value) => {
    if (!/^\d{1,10}$/.test(value)) return bad(ConfigAnnotation.ProxyGid, value, 'a group id');
    v.proxy.gid = Number(value);
  });
  bool(ConfigAnnotation.EnableExternalProfiles, (b) => (v.proxy.enableExternalProfiles = b));
  ports(ConfigAnnotation.SkipInboundPorts, (value) => (v.proxyInit.ignoreInboundPorts = value));
  ports(ConfigAnnotation.SkipOutboundPorts, (value) => (v.proxyInit.ignoreOutboundPorts = value));
  str(ConfigAnnotation.OpaquePorts, (value) => {
    const resolved: string[] = [];
    for (const item of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const named = namedPorts.get(item);
      if (named !== undefined) resolved.push(String(named));
      else if (parsePortList(item)) resolved.push(item);
      else return bad(ConfigAnnotation.OpaquePorts, value, 'ports, ranges or container port names');
    }
    v.opaquePortsOverride = resolved.join(',');
  });
  str(ConfigAnnotation.DebugImage, (value) => (v.debugImage.name = value));
  str(ConfigAnnotation.DebugImageVersion, (value) => (v.debugImage.version = value));
  str(ConfigAnnotation.DebugImagePullPolicy, (value) => (v.debugImage.pullPolicy = value));
  bool(ConfigAnnotation.EnableDebugSidecar, (b) => (v.debugSidecar = b));
  str(ConfigAnnotation.ProxyAwait, (value) => {
    if (value !== 'enabled' && value !== 'disabled')
      return bad(ConfigAnnotation.ProxyAwait, value, 'enabled or disabled');
    v.proxy.await = value === 'enabled';
  });
  str(ConfigAnnotation.DefaultInboundPolicy, (value) => {
    const known = Object.values(DefaultInboundPolicy) as string[];
    if (!known.includes(value)) return bad(ConfigAnnotation.DefaultInboundPolicy, value, known.join(', '));
    v.proxy.defaultInboundPolicy = value as DefaultInboundPolicy;
  });
  str(ConfigAnnotation.SkipSubnets, (value) => {
    const cidr = /^[0-9a-fA-F:.]+\/\d{1,3}$/;
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!items.every((s) => cidr.test(s)))
      return bad(ConfigAnnotation.SkipSubnets, value, 'CIDRs such as 198.18.0.0/15');
    v.proxyInit.skipSubnets = items.join(',');
  });
  str(ConfigAnnotation.AccessLog, (value) => {
    if (value !== 'apache' && value !== 'json')
      return bad(ConfigAnnotation.AccessLog, value, 'apache or json');
    v.proxy.accessLog = value;
  });
  bool(ConfigAnnotation.ProxyAdminShutdown, (b) => (v.proxy.enableShutdownEndpoint = b));
  bool(ConfigAnnotation.ProxyMetricsHostnameLabels, (b) => (v.proxy.metricsHostnameLabels = b));
  duration(ConfigAnnotation.CloseWaitTimeout, (ms) => {
    // Setting the conntrack timeout needs root in the init container.
    v.proxyInit.closeWaitTimeoutSecs = Math.floor(ms / 1000);
    v.runInitAsRoot = true;
  });
  str(ConfigAnnotation.ProxyAdditionalEnv, (value) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return bad(ConfigAnnotation.ProxyAdditionalEnv, value, 'a JSON list of {name, value} objects');
    }
    if (
      !Array.isArray(parsed) ||
      !parsed.every((e) => typeof e === 'object' && e !== null && typeof (e as EnvVar).name === 'string')
    ) {
      return bad(ConfigAnnotation.ProxyAdditionalEnv, value, 'a JSON list of {name, value} objects');
    }
    const merged = new Map(v.proxy.additionalEnv.map((e) => [e.name, e]));
    for (const e of parsed as EnvVar[]) merged.set(e.name, e);
    v.proxy.additionalEnv = [...merged.values()];
  });
  // A native sidecar has no preStop sleep: the kubelet stops it after the app containers. Linkerd's
  // proxy partial refuses the combination ("proxy.nativeSidecar and waitBeforeExitSeconds cannot be
  // used simultaneously"), so the pod is not injected and the webhook denies it, as Linkerd's does.
  if (v.proxy.nativeSidecar && v.waitBeforeExitSeconds > 0) {
    v.conflict =
      `${DeprecatedConfigAnnotation.ProxyWaitBeforeExitSeconds}=${v.waitBeforeExitSeconds} cannot be used with ` +
      `the native sidecar proxy (it stops after the app containers by itself): remove the annotation, or set ` +
      `${ConfigAnnotation.ProxyEnableNativeSidecar}: "false" for a regular sidecar with a preStop sleep`;
  }
  return v;
}
