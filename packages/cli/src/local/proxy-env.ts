// The proxy environment for a local workload: what Linkerd's injector writes into the
// linkerd-proxy container, with the pod's loopback address in place of 0.0.0.0 (every local pod
// shares the host's network namespace), plus tsmesh's explicit-mode variables.
import { DEFAULT_PROXY_LOG, DefaultPort, ProxyEnv } from '@tsmesh/core';
import { tapIdentity } from '@tsmesh/viz';
import type { ControlPlaneInfo } from './state-dir.js';

/** tsmesh's explicit-mode proxy variables (see the local-mode contract). */
export const ExplicitProxyEnv = {
  InboundForwardAddr: 'TSMESH_PROXY_INBOUND_FORWARD_ADDR',
  InboundListenAddrs: 'TSMESH_PROXY_INBOUND_LISTEN_ADDRS',
} as const;

export interface LocalProxyEnvOptions {
  readonly info: ControlPlaneInfo;
  readonly podIP: string;
  readonly podName: string;
  readonly namespace: string;
  readonly identity: string;
  readonly tokenFile: string;
  readonly trustAnchorsPem: string;
  readonly appPorts: readonly number[];
  readonly log?: string;
}

export function localProxyEnv(o: LocalProxyEnvOptions): Record<string, string> {
  const at = (port: number) => `${o.podIP}:${port}`;
  const env: Record<string, string> = {
    [ProxyEnv.Log]: o.log ?? DEFAULT_PROXY_LOG,
    [ProxyEnv.LogFormat]: 'plain',
    [ProxyEnv.InboundListenAddr]: at(DefaultPort.Inbound),
    [ProxyEnv.OutboundListenAddr]: at(DefaultPort.Outbound),
    [ProxyEnv.AdminListenAddr]: at(DefaultPort.Admin),
    [ProxyEnv.ControlListenAddr]: at(DefaultPort.Control),
    [ProxyEnv.InboundIps]: o.podIP,
    [ProxyEnv.InboundPorts]: o.appPorts.join(','),
    [ProxyEnv.InboundDefaultPolicy]: 'all-unauthenticated',
    [ProxyEnv.PolicyClusterNetworks]: '127.0.0.0/8,::1/128',
    [ProxyEnv.DestinationProfileNetworks]: '127.0.0.0/8,::1/128',
    [ProxyEnv.DestinationProfileSuffixes]: `svc.${o.info.trustDomain}.`,
    [ProxyEnv.InboundConnectTimeout]: '100ms',
    [ProxyEnv.OutboundConnectTimeout]: '1000ms',
    [ProxyEnv.ShutdownEndpointEnabled]: 'true',
    [ProxyEnv.ShutdownGracePeriod]: '5s',
    [ProxyEnv.DestinationContext]: JSON.stringify({ ns: o.namespace, nodeName: 'localhost', pod: o.podName }),
    [ProxyEnv.PolicyWorkload]: JSON.stringify({ ns: o.namespace, pod: o.podName }),
    [ProxyEnv.IdentityTrustAnchors]: o.trustAnchorsPem,
    [ProxyEnv.IdentityTokenFile]: o.tokenFile,
    [ProxyEnv.IdentityLocalName]: o.identity,
    [ProxyEnv.IdentitySvcAddr]: o.info.identity.addr,
    [ProxyEnv.IdentitySvcName]: o.info.identity.name,
    // The viz tap service's identity, as linkerd-viz's tap-injector sets it: the only client the
    // proxy's tap server (PODIP:4190) accepts.
    [ProxyEnv.TapSvcName]: tapIdentity({
      trustDomain: o.info.trustDomain,
      controlPlaneNamespace: o.info.controlPlaneNamespace,
    }),
    // Explicit mode: no iptables. Extra inbound listeners on PODIP:PORT for every app port, so a
    // peer dialling the endpoint Destination returns reaches this proxy; a connection on
    // PODIP:4143 without a redirect goes to the (first) app port.
    [ExplicitProxyEnv.InboundListenAddrs]: o.appPorts.map(at).join(','),
    ...(o.appPorts[0] !== undefined
      ? { [ExplicitProxyEnv.InboundForwardAddr]: `127.0.0.1:${o.appPorts[0]}` }
      : {}),
  };
  if (o.info.destination) {
    env[ProxyEnv.DestinationSvcAddr] = o.info.destination.addr;
    env[ProxyEnv.DestinationSvcName] = o.info.destination.name;
  }
  if (o.info.policy) {
    env[ProxyEnv.PolicySvcAddr] = o.info.policy.addr;
    env[ProxyEnv.PolicySvcName] = o.info.policy.name;
  }
  return env;
}
