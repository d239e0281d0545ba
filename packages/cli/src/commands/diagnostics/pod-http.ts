// Reaching an HTTP port of a pod (a proxy's admin port, a controller's admin port).
//
// linkerd opens a port-forward for every scrape. tsmesh offers two routes instead:
// - `apiserver` (default): the API server's pods/proxy subresource
//   (GET /api/v1/namespaces/NS/pods/NAME:PORT/proxy/metrics) with the kubeconfig's credentials —
//   one HTTPS request, no SPDY/WebSocket stream, works wherever `kubectl get --raw` works;
// - `direct`: plain HTTP to the pod IP, for a CLI that runs on the pod network (in-cluster, the
//   local mesh of `tsmesh up`, whose pod IPs are loopback addresses).
// The API server refuses to proxy to loopback and link-local pod IPs, so the test cluster (no
// kubelet, pods given loopback IPs where real proxies listen) uses `direct`.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';

export type PodRoute = 'apiserver' | 'direct';

export const POD_ROUTES: readonly PodRoute[] = ['apiserver', 'direct'];

export function parsePodRoute(value: string): PodRoute {
  if ((POD_ROUTES as readonly string[]).includes(value)) return value as PodRoute;
  throw new MeshError(MeshErrorCode.InvalidArgument, `unknown route "${value}"`, {
    where: '--via',
    hint: 'use apiserver (through the API server, the default) or direct (to the pod IP)',
  });
}

interface PodShape {
  metadata?: { name?: string; namespace?: string };
  spec?: { containers?: { name: string; ports?: { name?: string; containerPort: number }[] }[] };
  status?: { podIP?: string; phase?: string };
}

export interface NamedPort {
  readonly container: string;
  readonly port: number;
}

/** Every container port called `portName` in the pod, in container order. */
export function portsNamed(pod: KubeObject, portName: string): NamedPort[] {
  const out: NamedPort[] = [];
  for (const c of (pod as PodShape).spec?.containers ?? []) {
    for (const p of c.ports ?? [])
      if (p.name === portName) out.push({ container: c.name, port: p.containerPort });
  }
  return out;
}

export interface PodHttpOptions {
  readonly kubeConfig: KubeConfig;
  readonly route: PodRoute;
  readonly timeoutMs: number;
}

/** GET `path` from `port` of `pod` by the chosen route; the body as text. */
export async function getFromPod(
  pod: KubeObject,
  port: number,
  path: string,
  options: PodHttpOptions,
): Promise<string> {
  const p = pod as PodShape;
  const name = p.metadata?.name ?? '';
  const namespace = p.metadata?.namespace ?? '';
  if (options.route === 'direct') {
    const ip = p.status?.podIP;
    if (!ip) {
      throw new MeshError(MeshErrorCode.Unavailable, `pod ${namespace}/${name} has no IP yet`, {
        where: 'status.podIP',
        hint: 'wait until the pod is running (kubectl get pod -o wide)',
      });
    }
    const host = ip.includes(':') ? `[${ip}]` : ip;
    return await get(new URL(`http://${host}:${port}${path}`), {}, options.timeoutMs, `${ip}:${port}`);
  }
  const cluster = options.kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new MeshError(MeshErrorCode.Config, 'the kubeconfig has no current cluster', {
      where: 'kubeconfig',
      hint: 'pass --context NAME or set current-context',
    });
  }
  const url = new URL(
    `${cluster.server.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/` +
      `${encodeURIComponent(name)}:${port}/proxy${path}`,
  );
  const tls: RequestOptions = {};
  await options.kubeConfig.applyToHTTPSOptions(tls);
  try {
    return await get(
      url,
      tls,
      options.timeoutMs,
      `the API server's pods/proxy for ${namespace}/${name}:${port}`,
    );
  } catch (err) {
    if (MeshError.is(err) && err.code !== MeshErrorCode.Timeout) {
      throw new MeshError(err.code, err.message, {
        where: err.where,
        hint:
          'the API server could not reach the pod; from the pod network use --via direct, ' +
          `or run kubectl port-forward -n ${namespace} pod/${name} ${port} and scrape localhost`,
        cause: err,
      });
    }
    throw err;
  }
}

function get(url: URL, tls: RequestOptions, timeoutMs: number, where: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      { ...tls, method: 'GET', headers: { accept: 'text/plain, */*' } },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(body);
          let message = body.trim().slice(0, 300);
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            // not a Kubernetes Status: keep the text
          }
          reject(
            new MeshError(
              status === 404 ? MeshErrorCode.NotFound : MeshErrorCode.Unavailable,
              `HTTP ${status}: ${message}`,
              { where },
            ),
          );
        });
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(
        new MeshError(MeshErrorCode.Timeout, `no answer within ${timeoutMs} ms`, {
          where,
          hint: 'is the pod running and its port open? raise --wait',
        }),
      ),
    );
    req.on('error', (err) =>
      reject(
        MeshError.is(err)
          ? err
          : new MeshError(MeshErrorCode.Unavailable, `cannot connect: ${err.message}`, { where, cause: err }),
      ),
    );
    req.end();
  });
}
