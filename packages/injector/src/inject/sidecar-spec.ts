// The containers and volumes Linkerd's injector adds, field for field (charts/partials _proxy.tpl,
// _proxy-init.tpl, _volumes.tpl): the linkerd-proxy container with its LINKERD2_PROXY_*
// environment, the linkerd-init container running proxy-init, and the identity volumes.
import {
  DEFAULT_IDENTITY_DIR,
  DEFAULT_IDENTITY_TOKEN_FILE,
  IDENTITY_TOKEN_AUDIENCE,
  PROXY_CONTAINER_NAME,
  ProxyEnv,
} from '@tsmesh/core';
import type { InjectorConfig } from '../config/index.js';
import type { ProxyValues } from './proxy-values.js';
import type { Container } from './workload.js';

// The injector's public names for its containers (the proxy's is core's vocabulary).
export { PROXY_CONTAINER_NAME };
export const INIT_CONTAINER_NAME = 'linkerd-init';
export const DEBUG_CONTAINER_NAME = 'linkerd-debug';
export const IDENTITY_END_ENTITY_VOLUME = 'linkerd-identity-end-entity';
export const IDENTITY_TOKEN_VOLUME = 'linkerd-identity-token';
export const XTABLES_LOCK_VOLUME = 'linkerd-proxy-init-xtables-lock';
export const INJECTED_VOLUMES: readonly string[] = Object.freeze([
  XTABLES_LOCK_VOLUME,
  IDENTITY_END_ENTITY_VOLUME,
  IDENTITY_TOKEN_VOLUME,
]);

type Env = { name: string; value?: string; valueFrom?: unknown };

const field = (name: string, fieldPath: string): Env => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/** What the proxy container needs to know about the pod. */
export interface PodFacts {
  /** `LINKERD2_PROXY_INBOUND_PORTS`: the pod's container ports. */
  inboundPorts: string;
  /** Opaque ports for `LINKERD2_PROXY_INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION` ('' for none). */
  opaquePorts: string;
  /**
   * The Deployment the pod belongs to. Linkerd's own destination and identity pods reach their
   * controller over localhost (Linkerd's `proxy.component`).
   */
  component?: string;
}

/** `localhost.:<port of addr>` for a control-plane component talking to itself. */
function local(addr: string): string {
  return `localhost.:${addr.slice(addr.lastIndexOf(':') + 1)}`;
}

function resources(v: ProxyValues): Record<string, unknown> | undefined {
  const r = v.proxy.resources;
  const pick = (which: 'request' | 'limit') => {
    const out: Record<string, string> = {};
    if (r.cpu[which]) out.cpu = r.cpu[which];
    if (r.ephemeralStorage[which]) out['ephemeral-storage'] = r.ephemeralStorage[which];
    if (r.memory[which]) out.memory = r.memory[which];
    return Object.keys(out).length ? out : undefined;
  };
  const limits = pick('limit');
  const requests = pick('request');
  if (!limits && !requests) return undefined;
  return { ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) };
}

function capabilities(c: { add?: readonly string[]; drop?: readonly string[] }): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (c.add?.length) out.add = [...new Set(c.add)];
  if (c.drop?.length) out.drop = [...c.drop];
  return out;
}

export function proxyEnv(config: InjectorConfig, v: ProxyValues, pod: PodFacts): Env[] {
  const p = v.proxy;
  const ns = config.controlPlaneNamespace;
  const td = config.trustDomain;
  const any = p.disableIpv6 ? '0.0.0.0' : '[::]';
  const env: Env[] = [
    field('_pod_name', 'metadata.name'),
    field('_pod_ns', 'metadata.namespace'),
    field('_pod_uid', 'metadata.uid'),
    field('_pod_ip', 'status.podIP'),
    field('_pod_nodeName', 'spec.nodeName'),
    { name: '_pod_containerName', value: PROXY_CONTAINER_NAME },
    { name: ProxyEnv.Cores, value: String(v.cores ?? p.cores.minimum) },
    { name: ProxyEnv.CoresMin, value: String(p.cores.minimum) },
  ];
  const add = (name: string, value: string | undefined) => {
    if (value !== undefined) env.push({ name, value });
  };
  add(ProxyEnv.CoresMaxRatio, v.coresMaxRatio);
  add(ProxyEnv.InboundPortsRequireIdentity, p.requireIdentityOnInboundPorts);
  add(ProxyEnv.ShutdownEndpointEnabled, String(p.enableShutdownEndpoint));
  add(
    ProxyEnv.Log,
    p.logHttpHeaders === 'insecure' ? p.logLevel : `${p.logLevel},[{headers}]=off,[{request}]=off`,
  );
  add(ProxyEnv.LogFormat, p.logFormat);
  const isDestination = pod.component === 'linkerd-destination';
  add(ProxyEnv.DestinationSvcAddr, isDestination ? local(config.destinationAddr) : config.destinationAddr);
  add(ProxyEnv.DestinationProfileNetworks, config.clusterNetworks);
  add(ProxyEnv.PolicySvcAddr, isDestination ? local(config.policyAddr) : config.policyAddr);
  // Linkerd writes these JSON documents with a trailing newline (a YAML block scalar).
  add(ProxyEnv.PolicyWorkload, '{"ns":"$(_pod_ns)", "pod":"$(_pod_name)"}\n');
  add(ProxyEnv.InboundDefaultPolicy, p.defaultInboundPolicy);
  add(ProxyEnv.PolicyClusterNetworks, config.clusterNetworks);
  add(ProxyEnv.ControlStreamInitialTimeout, p.controlStreams.initialTimeout);
  add(ProxyEnv.ControlStreamIdleTimeout, p.controlStreams.idleTimeout);
  add(ProxyEnv.ControlStreamLifetime, p.controlStreams.lifetime);
  add(ProxyEnv.InboundConnectTimeout, p.inboundConnectTimeout);
  add(ProxyEnv.OutboundConnectTimeout, p.outboundConnectTimeout);
  add(ProxyEnv.OutboundDiscoveryIdleTimeout, p.outboundDiscoveryCacheUnusedTimeout);
  add(ProxyEnv.InboundDiscoveryIdleTimeout, p.inboundDiscoveryCacheUnusedTimeout);
  if (v.disableOutboundDetectTimeout) add(ProxyEnv.OutboundDetectTimeout, '365d');
  if (v.disableInboundDetectTimeout) add(ProxyEnv.InboundDetectTimeout, '365d');
  add(ProxyEnv.ControlListenAddr, `${any}:${p.ports.control}`);
  add(ProxyEnv.AdminListenAddr, `${any}:${p.ports.admin}`);
  add(ProxyEnv.OutboundListenAddr, `127.0.0.1:${p.ports.outbound}`);
  add(
    ProxyEnv.OutboundListenAddrs,
    p.disableIpv6
      ? `127.0.0.1:${p.ports.outbound}`
      : `127.0.0.1:${p.ports.outbound},[::1]:${p.ports.outbound}`,
  );
  add(ProxyEnv.InboundListenAddr, `${any}:${p.ports.inbound}`);
  env.push(field(ProxyEnv.InboundIps, 'status.podIPs'));
  add(ProxyEnv.InboundPorts, v.podInboundPorts ?? pod.inboundPorts);
  if (v.isGateway) add(ProxyEnv.InboundGatewaySuffixes, `svc.${config.clusterDomain}.`);
  if (v.isIngress) add(ProxyEnv.IngressMode, 'true');
  add(ProxyEnv.DestinationProfileSuffixes, p.enableExternalProfiles ? '.' : `svc.${config.clusterDomain}.`);
  add(ProxyEnv.InboundAcceptKeepalive, '10000ms');
  add(ProxyEnv.OutboundConnectKeepalive, '10000ms');
  add(ProxyEnv.InboundAcceptUserTimeout, '30s');
  add(ProxyEnv.OutboundConnectUserTimeout, '30s');
  add(ProxyEnv.OutboundMetricsHostnameLabels, String(p.metricsHostnameLabels));
  add(ProxyEnv.InboundServerHttp2KeepAliveInterval, '10s');
  add(ProxyEnv.InboundServerHttp2KeepAliveTimeout, '3s');
  add(ProxyEnv.OutboundServerHttp2KeepAliveInterval, '10s');
  add(ProxyEnv.OutboundServerHttp2KeepAliveTimeout, '3s');
  if (pod.opaquePorts) add(ProxyEnv.InboundPortsDisableProtocolDetection, pod.opaquePorts);
  add(
    ProxyEnv.DestinationContext,
    '{"ns":"$(_pod_ns)", "nodeName":"$(_pod_nodeName)", "pod":"$(_pod_name)"}\n',
  );
  env.push(field('_pod_sa', 'spec.serviceAccountName'));
  add('_l5d_ns', ns);
  add('_l5d_trustdomain', td);
  add(ProxyEnv.IdentityDir, DEFAULT_IDENTITY_DIR);
  if (p.loadTrustBundleFromConfigMap) {
    env.push({
      name: ProxyEnv.IdentityTrustAnchors,
      valueFrom: { configMapKeyRef: { name: 'linkerd-identity-trust-roots', key: 'ca-bundle.crt' } },
    });
  } else {
    add(
      ProxyEnv.IdentityTrustAnchors,
      config.trustAnchorsPem.trim() ? `${config.trustAnchorsPem.trim()}\n` : '',
    );
  }
  add(ProxyEnv.IdentityTokenFile, DEFAULT_IDENTITY_TOKEN_FILE);
  add(
    ProxyEnv.IdentitySvcAddr,
    pod.component === 'linkerd-identity' ? local(config.identityAddr) : config.identityAddr,
  );
  add(ProxyEnv.IdentityLocalName, `$(_pod_sa).$(_pod_ns).serviceaccount.identity.${ns}.${td}`);
  add(ProxyEnv.IdentitySvcName, `linkerd-identity.${ns}.serviceaccount.identity.${ns}.${td}`);
  add(ProxyEnv.DestinationSvcName, `linkerd-destination.${ns}.serviceaccount.identity.${ns}.${td}`);
  add(ProxyEnv.PolicySvcName, `linkerd-destination.${ns}.serviceaccount.identity.${ns}.${td}`);
  add(ProxyEnv.AccessLog, p.accessLog);
  add(ProxyEnv.ShutdownGracePeriod, p.shutdownGracePeriod);
  // Additional variables replace injected ones of the same name and otherwise come last.
  for (const extra of p.additionalEnv) {
    const at = env.findIndex((e) => e.name === extra.name);
    const entry = { ...extra } as Env;
    if (at >= 0) env[at] = entry;
    else env.push(entry);
  }
  return env;
}

export function proxyContainer(config: InjectorConfig, v: ProxyValues, pod: PodFacts): Container {
  const p = v.proxy;
  const admin = p.ports.admin;
  const container: Container = {
    name: PROXY_CONTAINER_NAME,
    image: `${p.image.name}:${p.image.version}`,
    imagePullPolicy: p.image.pullPolicy,
    env: proxyEnv(config, v, pod),
    livenessProbe: { httpGet: { path: '/live', port: admin }, ...p.livenessProbe },
    ports: [
      { containerPort: p.ports.inbound, name: 'linkerd-proxy' },
      { containerPort: admin, name: 'linkerd-admin' },
    ],
    readinessProbe: { httpGet: { path: '/ready', port: admin }, ...p.readinessProbe },
  };
  if (p.nativeSidecar && p.await) {
    container.startupProbe = { httpGet: { path: '/ready', port: admin }, ...p.startupProbe };
  }
  const res = resources(v);
  if (res) container.resources = res;
  container.securityContext = {
    allowPrivilegeEscalation: false,
    ...(p.capabilities ? { capabilities: capabilities(p.capabilities) } : {}),
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: p.uid,
    ...(p.gid !== undefined ? { runAsGroup: p.gid } : {}),
    seccompProfile: { type: 'RuntimeDefault' },
  };
  container.terminationMessagePolicy = 'FallbackToLogsOnError';
  if (!p.nativeSidecar && (p.await || v.waitBeforeExitSeconds > 0)) {
    const lifecycle: Record<string, unknown> = {};
    if (p.await) {
      lifecycle.postStart = {
        exec: { command: p.awaitCommand.map((part) => part.replace('{port}', String(admin))) },
      };
    }
    if (v.waitBeforeExitSeconds > 0) {
      lifecycle.preStop = { exec: { command: ['/bin/sleep', String(v.waitBeforeExitSeconds)] } };
    }
    container.lifecycle = lifecycle;
  }
  container.volumeMounts = [
    { mountPath: DEFAULT_IDENTITY_DIR, name: IDENTITY_END_ENTITY_VOLUME },
    { mountPath: '/var/run/secrets/tokens', name: IDENTITY_TOKEN_VOLUME },
  ];
  if (p.nativeSidecar) container.restartPolicy = 'Always';
  return container;
}

export function initContainer(v: ProxyValues): Container {
  const p = v.proxy;
  const i = v.proxyInit;
  const args: string[] = [];
  if (i.iptablesMode === 'nft') {
    args.push('--firewall-bin-path', 'iptables-nft', '--firewall-save-bin-path', 'iptables-nft-save');
  }
  if (p.disableIpv6) args.push('--ipv6=false');
  args.push('--incoming-proxy-port', String(p.ports.inbound));
  args.push('--outgoing-proxy-port', String(p.ports.outbound));
  args.push('--proxy-uid', String(p.uid));
  if (p.gid !== undefined) args.push('--proxy-gid', String(p.gid));
  const ignoreIn = [String(p.ports.control), String(p.ports.admin)];
  if (i.ignoreInboundPorts) ignoreIn.push(i.ignoreInboundPorts);
  args.push('--inbound-ports-to-ignore', ignoreIn.join(','));
  if (i.ignoreOutboundPorts) args.push('--outbound-ports-to-ignore', i.ignoreOutboundPorts);
  if (i.closeWaitTimeoutSecs > 0) args.push('--timeout-close-wait-secs', String(i.closeWaitTimeoutSecs));
  if (i.skipSubnets) args.push('--subnets-to-ignore', i.skipSubnets);
  const root = v.runInitAsRoot;
  const container: Container = {
    name: INIT_CONTAINER_NAME,
    image: `${i.image.name}:${i.image.version}`,
    imagePullPolicy: i.image.pullPolicy,
    command: [...i.command],
    args,
  };
  const res = resources(v);
  if (res) container.resources = res;
  container.securityContext = {
    allowPrivilegeEscalation: root,
    capabilities: capabilities({
      add: ['NET_ADMIN', 'NET_RAW', ...(i.capabilities?.add ?? [])],
      drop: i.capabilities?.drop,
    }),
    privileged: root,
    ...(root
      ? { runAsGroup: 0, runAsNonRoot: false, runAsUser: 0 }
      : { runAsGroup: i.runAsGroup, runAsNonRoot: true, runAsUser: i.runAsUser }),
    readOnlyRootFilesystem: true,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  container.terminationMessagePolicy = 'FallbackToLogsOnError';
  container.volumeMounts = [{ mountPath: '/run', name: XTABLES_LOCK_VOLUME }];
  return container;
}

export function debugContainer(v: ProxyValues): Container {
  return {
    name: DEBUG_CONTAINER_NAME,
    image: `${v.debugImage.name}:${v.debugImage.version}`,
    imagePullPolicy: v.debugImage.pullPolicy,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

export function injectedVolumes(cniEnabled: boolean): { name: string; [key: string]: unknown }[] {
  const volumes: { name: string; [key: string]: unknown }[] = [];
  if (!cniEnabled) volumes.push({ emptyDir: {}, name: XTABLES_LOCK_VOLUME });
  volumes.push({ emptyDir: { medium: 'Memory' }, name: IDENTITY_END_ENTITY_VOLUME });
  volumes.push({
    name: IDENTITY_TOKEN_VOLUME,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: IDENTITY_TOKEN_AUDIENCE,
            expirationSeconds: 86400,
            path: 'linkerd-identity-token',
          },
        },
      ],
    },
  });
  return volumes;
}
