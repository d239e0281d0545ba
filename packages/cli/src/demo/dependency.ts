// How a demo app reaches a dependency: always through its proxy's outbound port
// (TSMESH_OUTBOUND), naming the dependency by its Service name as Host / :authority. While the
// proxy has no discovery of its own (TSMESH_DISCOVERY=api), the app asks the local control plane
// for the Service's endpoints and names one endpoint (pod IP and port, where that pod's proxy
// listens) instead; the proxy still does the mTLS to it. Without TSMESH_OUTBOUND (transparent
// mode, `tsmesh run --netns`) the app dials the Service name itself, as in a pod: the pod's
// iptables rules bring the connection to its proxy.
import { MeshError, MeshErrorCode } from '@tsmesh/core';

export interface DemoAppConfig {
  readonly name: string;
  readonly podIP: string;
  /** host:port of the proxy's outbound listener; undefined in transparent mode. */
  readonly outbound: string | undefined;
  readonly port: number;
  readonly discovery: 'proxy' | 'api';
  readonly controlPlaneApi: string | undefined;
  readonly namespace: string;
}

/** Parsed once from the environment `tsmesh run` gives the app. */
export function readDemoAppConfig(name: string, env: NodeJS.ProcessEnv): DemoAppConfig {
  const need = (key: string) => {
    const value = env[key];
    if (!value)
      throw new MeshError(MeshErrorCode.Config, 'is not set', {
        where: key,
        hint: 'run demo apps with `tsmesh run` (or `tsmesh demo`), which sets it',
      });
    return value;
  };
  const port = Number(env.PORT ?? '0');
  return Object.freeze({
    name,
    podIP: need('TSMESH_POD_IP'),
    outbound: env.TSMESH_OUTBOUND || undefined,
    port,
    discovery: env.TSMESH_DISCOVERY === 'proxy' ? 'proxy' : 'api',
    controlPlaneApi: env.TSMESH_CONTROL_PLANE_API,
    namespace: env.TSMESH_NAMESPACE ?? 'default',
  });
}

export interface Dependency {
  /** host:port to dial (the outbound proxy, or in transparent mode the Service name). */
  readonly dial: string;
  /** The authority to send: the Service name, or (api discovery) an endpoint's proxy address. */
  authority(): Promise<string>;
}

export function dependency(config: DemoAppConfig, serviceAuthority: string): Dependency {
  let cached: { value: string; untilMs: number } | undefined;
  let turn = 0;
  return {
    dial: config.outbound ?? serviceAuthority,
    async authority() {
      if (config.outbound === undefined || config.discovery === 'proxy' || !config.controlPlaneApi)
        return serviceAuthority;
      if (cached && cached.untilMs > Date.now()) return cached.value;
      const url = new URL('/v1/resolve', config.controlPlaneApi);
      url.searchParams.set('authority', serviceAuthority);
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { endpoints?: { addr: string }[]; error?: string };
      const endpoints = body.endpoints ?? [];
      if (endpoints.length === 0)
        throw new MeshError(MeshErrorCode.Unavailable, `no endpoints for ${serviceAuthority}`, {
          hint: body.error,
        });
      const value = endpoints[turn++ % endpoints.length]!.addr;
      cached = { value, untilMs: Date.now() + 2000 };
      return value;
    },
  };
}
