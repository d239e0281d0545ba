// Where the CLI dials the destination (port `grpc` of container `destination`, 8086) and policy
// (port `grpc` of container `policy`, 8090) services: an explicit --destination-addr/--policy-addr
// (e.g. the local end of `kubectl port-forward -n linkerd deploy/linkerd-destination 8086 8090`, or
// `tsmesh up`'s control plane), else the IP of a running destination pod, which works from the pod
// network. linkerd opens a port-forward here; tsmesh leaves that to kubectl (see pod-http.ts).
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { CoreKinds } from '@tsmesh/kube';
import type { ClusterSession } from './cluster-session.js';
import { portsNamed } from './pod-http.js';

export interface ControlPlaneAddressOptions {
  /** HOST:PORT given on the command line. */
  readonly explicit?: string;
  readonly flag: string;
  readonly controllerNamespace: string;
  /** The container serving the API in the destination pod. */
  readonly container: 'destination' | 'policy';
  /** A specific destination pod (--destination-pod). */
  readonly pod?: string;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/;

export function parseHostPort(text: string, flag: string): string {
  const m = HOST_PORT.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `"${text}" is not HOST:PORT`, {
      where: flag,
      hint: 'e.g. 127.0.0.1:8086',
    });
  }
  return text;
}

export async function controlPlaneAddress(
  session: ClusterSession | undefined,
  options: ControlPlaneAddressOptions,
): Promise<string> {
  if (options.explicit) return parseHostPort(options.explicit, options.flag);
  if (!session) throw new MeshError(MeshErrorCode.Internal, 'no cluster session');
  const ns = options.controllerNamespace;
  const pods = await session.client.list(CoreKinds.Pod, {
    namespace: ns,
    labelSelector: 'linkerd.io/control-plane-component=destination',
  });
  const running = pods.items
    .filter((p) => !options.pod || p.metadata?.name === options.pod)
    .filter((p) => {
      const status = (p as { status?: { phase?: string; podIP?: string } }).status;
      return status?.phase === 'Running' && !!status.podIP;
    })
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const pod = running[0];
  const fix =
    `pass ${options.flag} HOST:PORT (e.g. after kubectl port-forward -n ${ns} deploy/linkerd-destination ` +
    `${options.container === 'policy' ? '8090' : '8086'}) or check the control plane with tsmesh check`;
  if (!pod) {
    throw new MeshError(
      MeshErrorCode.Unavailable,
      options.pod
        ? `destination pod ${options.pod} is not running in namespace ${ns}`
        : `no running destination pod in namespace ${ns}`,
      { where: '--controller-namespace', hint: fix },
    );
  }
  const port = portsNamed(pod, 'grpc').find((p) => p.container === options.container)?.port;
  if (port === undefined) {
    throw new MeshError(
      MeshErrorCode.NotFound,
      `pod ${ns}/${pod.metadata?.name} has no port named grpc in a container named ${options.container}`,
      { where: 'spec.containers', hint: fix },
    );
  }
  const ip = (pod as { status: { podIP: string } }).status.podIP;
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}
