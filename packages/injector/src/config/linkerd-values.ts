// Linkerd's Helm values (what `linkerd-config`'s `values` key holds, and what the
// linkerd-control-plane chart takes) mapped onto InjectorConfig, so the injector can be configured
// from the same values file as Linkerd's. Empty strings mean "unset", as in the chart.
// proxyInit.image is not read: tsmesh runs proxy-init from the proxy image.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  parseInjectorConfigText,
  type Capabilities,
  type EnvVar,
  type InjectorConfigInput,
  type ProbeTiming,
} from './injector-config.js';

type Values = Record<string, unknown>;

const obj = (v: unknown): Values =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Values) : {};
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v)
    ? v
    : typeof v === 'string' && /^-?\d+$/.test(v)
      ? Number(v)
      : undefined;
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
/** A port list, where "" means "none" (not unset); one port may come as a number (`--set k=25`). */
const portList = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const inner = defined(v as object);
      if (Object.keys(inner).length) out[k] = inner;
    } else out[k] = v;
  }
  return out as T;
}

function constraint(v: unknown) {
  const c = obj(v);
  return { request: str(c.request), limit: str(c.limit) };
}

function probe(v: unknown): Partial<ProbeTiming> {
  const p = obj(v);
  return {
    initialDelaySeconds: num(p.initialDelaySeconds),
    timeoutSeconds: num(p.timeoutSeconds),
    periodSeconds: num(p.periodSeconds),
    failureThreshold: num(p.failureThreshold),
  };
}

function capabilities(v: unknown): Capabilities | undefined {
  const c = obj(v);
  const list = (x: unknown) =>
    Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : undefined;
  const add = list(c.add);
  const drop = list(c.drop);
  return add?.length || drop?.length ? { add, drop } : undefined;
}

/** InjectorConfig input from Linkerd's values; `controlPlaneNamespace` is the release namespace. */
export function injectorConfigFromLinkerdValues(
  values: unknown,
  options: { controlPlaneNamespace?: string } = {},
): InjectorConfigInput {
  const v = obj(values);
  const proxy = obj(v.proxy);
  const init = obj(v.proxyInit);
  const image = obj(proxy.image);
  const debugImage = obj(obj(v.debugContainer).image);
  const resources = obj(proxy.resources);
  const streams = obj(obj(proxy.control).streams);
  const pullPolicy = str(v.imagePullPolicy);
  const version = str(image.version) ?? str(v.linkerdVersion);
  const gid = num(proxy.gid);
  const additionalEnv = Array.isArray(proxy.additionalEnv)
    ? (proxy.additionalEnv.filter((e) => typeof obj(e).name === 'string') as EnvVar[])
    : undefined;
  const iptablesMode = str(init.iptablesMode);
  return defined({
    controlPlaneNamespace: options.controlPlaneNamespace,
    clusterDomain: str(v.clusterDomain),
    trustDomain: str(v.identityTrustDomain) ?? str(v.clusterDomain),
    trustAnchorsPem: str(v.identityTrustAnchorsPEM),
    clusterNetworks: str(v.clusterNetworks),
    cniEnabled: bool(v.cniEnabled),
    proxy: {
      image: { name: str(image.name), version, pullPolicy: str(image.pullPolicy) ?? pullPolicy },
      ports: {
        inbound: num(obj(proxy.ports).inbound),
        outbound: num(obj(proxy.ports).outbound),
        admin: num(obj(proxy.ports).admin),
        control: num(obj(proxy.ports).control),
      },
      uid: num(proxy.uid),
      // Linkerd writes -1 for "no group".
      gid: gid !== undefined && gid >= 0 ? gid : undefined,
      logLevel: str(proxy.logLevel),
      logFormat: str(proxy.logFormat) as 'plain' | 'json' | undefined,
      logHttpHeaders: str(proxy.logHTTPHeaders) as 'off' | 'insecure' | undefined,
      resources: {
        cpu: constraint(resources.cpu),
        memory: constraint(resources.memory),
        ephemeralStorage: constraint(resources['ephemeral-storage']),
      },
      defaultInboundPolicy: str(proxy.defaultInboundPolicy) as never,
      opaquePorts: str(proxy.opaquePorts),
      requireIdentityOnInboundPorts: str(proxy.requireIdentityOnInboundPorts),
      enableShutdownEndpoint: bool(proxy.enableShutdownEndpoint),
      nativeSidecar: bool(proxy.nativeSidecar),
      await: bool(proxy.await),
      inboundConnectTimeout: str(proxy.inboundConnectTimeout),
      outboundConnectTimeout: str(proxy.outboundConnectTimeout),
      inboundDiscoveryCacheUnusedTimeout: str(proxy.inboundDiscoveryCacheUnusedTimeout),
      outboundDiscoveryCacheUnusedTimeout: str(proxy.outboundDiscoveryCacheUnusedTimeout),
      controlStreams: {
        initialTimeout: str(streams.initialTimeout),
        idleTimeout: str(streams.idleTimeout),
        lifetime: str(streams.lifetime),
      },
      shutdownGracePeriod: str(proxy.shutdownGracePeriod),
      waitBeforeExitSeconds: num(proxy.waitBeforeExitSeconds),
      accessLog: str(proxy.accessLog),
      enableExternalProfiles: bool(proxy.enableExternalProfiles),
      metricsHostnameLabels: bool(obj(proxy.metrics).hostnameLabels),
      disableIpv6: bool(v.disableIPv6),
      livenessProbe: probe(proxy.livenessProbe),
      readinessProbe: probe(proxy.readinessProbe),
      startupProbe: probe(proxy.startupProbe),
      additionalEnv,
      capabilities: capabilities(proxy.capabilities),
    },
    proxyInit: {
      ignoreInboundPorts: portList(init.ignoreInboundPorts),
      ignoreOutboundPorts: portList(init.ignoreOutboundPorts),
      skipSubnets: str(init.skipSubnets),
      iptablesMode: iptablesMode === 'nft' || iptablesMode === 'legacy' ? iptablesMode : undefined,
      runAsUser: num(init.runAsUser),
      runAsGroup: num(init.runAsGroup),
      closeWaitTimeoutSecs: num(init.closeWaitTimeoutSecs),
      capabilities: capabilities(init.capabilities),
      image: { pullPolicy: pullPolicy, version, name: str(image.name) },
    },
    debugImage: {
      name: str(debugImage.name),
      version: str(debugImage.version) ?? version,
      pullPolicy: str(debugImage.pullPolicy) ?? pullPolicy,
    },
  } satisfies InjectorConfigInput);
}

/**
 * The input from a values file: tsmesh's own InjectorConfig fields (`config`) or Linkerd's chart
 * values (`linkerdValues`, e.g. the `values` key of the linkerd-config ConfigMap), not both.
 */
export function injectorConfigInputFromFiles(
  files: {
    config?: { text: string; source: string };
    linkerdValues?: { text: string; source: string };
  },
  options: { controlPlaneNamespace?: string } = {},
): InjectorConfigInput {
  if (files.config && files.linkerdValues) {
    throw new MeshError(MeshErrorCode.Config, 'give injector values or Linkerd values, not both', {
      where: `${files.config.source} and ${files.linkerdValues.source}`,
    });
  }
  if (files.config) return parseInjectorConfigText(files.config.text, files.config.source);
  if (files.linkerdValues) {
    const values = parseInjectorConfigText(files.linkerdValues.text, files.linkerdValues.source);
    return injectorConfigFromLinkerdValues(values, options);
  }
  return {};
}
