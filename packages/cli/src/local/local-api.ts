// The local control plane's small loopback HTTP API (127.0.0.1, JSON):
//   POST /v1/workloads   register a workload instance; the answer streams one JSON line (its Pod,
//                        pod IP and ServiceAccount token) and stays open: the Pod lives as long as
//                        this request does, so a workload that dies is deregistered at once.
//   GET  /v1/pods        the Pods the controllers see.
//   GET  /v1/services    the Services (transparent mode writes their clusterIPs into pods' hosts).
//   GET  /v1/resolve?authority=svc.ns.svc.cluster.local:port
//                        the Service's ready endpoints with the mesh identity of each.
//   GET  /v1/status      manifest problems (file, document, field) and object counts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DefaultPort, MeshError } from '@tsmesh/core';
import { identityNameOf, type LocalTokenIssuer } from '@tsmesh/identity';
import { CoreKinds, type KubeObject, type Logger, type ManifestError } from '@tsmesh/kube';
import { SERVICE_NAME_LABEL } from './endpoints-controller.js';
import type { LocalObjectSource } from './local-object-source.js';
import { validateRegistration, type PodRegistry } from './pod-registry.js';
import { CONTROL_PLANE_NAMESPACE, TRUST_DOMAIN } from './state-dir.js';
import { EXPANDED_FROM_LABEL } from './workload-form.js';

export interface ResolvedEndpoint {
  /** podIP:targetPort, what Destination returns. */
  readonly addr: string;
  /** podIP:4143, the endpoint's inbound proxy. */
  readonly proxyAddr: string;
  readonly pod: string;
  /** Its proxy's identity when the pod is meshed. */
  readonly identity?: string;
}

export interface LocalApiOptions {
  /** Port on 127.0.0.1; 0 or absent: any free port (also when the given one is taken). */
  readonly port?: number;
  readonly source: LocalObjectSource;
  readonly pods: PodRegistry;
  readonly tokens: LocalTokenIssuer;
  readonly trustAnchorsPem: string;
  readonly manifestErrors: () => readonly ManifestError[];
  readonly logger: Logger;
}

export interface LocalApi {
  readonly url: string;
  close(): Promise<void>;
}

type Pod = KubeObject & {
  spec?: { serviceAccountName?: string; containers?: { name?: string }[] };
  status?: { podIP?: string };
};

export const podIdentity = (pod: Pod): string | undefined =>
  pod.spec?.containers?.some((c) => c.name === 'linkerd-proxy')
    ? identityNameOf(
        pod.metadata?.namespace ?? 'default',
        pod.spec.serviceAccountName ?? 'default',
        CONTROL_PLANE_NAMESPACE,
        TRUST_DOMAIN,
      )
    : undefined;

/** Splits `name[.ns[.svc[.cluster.local]]]:port` into service, namespace and port. */
export function parseServiceAuthority(
  authority: string,
): { name: string; namespace: string; port: number } | undefined {
  const m = /^([a-z0-9-]+)(?:\.([a-z0-9-]+))?(?:\.svc(?:\.cluster\.local)?)?\.?:(\d+)$/.exec(authority);
  if (!m) return undefined;
  return { name: m[1]!, namespace: m[2] ?? 'default', port: Number(m[3]) };
}

export async function resolveAuthority(
  source: LocalObjectSource,
  authority: string,
): Promise<ResolvedEndpoint[] | undefined> {
  const parsed = parseServiceAuthority(authority);
  if (!parsed) return undefined;
  const services = await source.snapshot(CoreKinds.Service);
  const service = services.get(parsed.namespace, parsed.name) as
    (KubeObject & { spec?: { ports?: { name?: string; port: number }[] } }) | undefined;
  const servicePort = service?.spec?.ports?.find((p) => p.port === parsed.port);
  if (!servicePort) return undefined;
  const slices = (await source.snapshot(CoreKinds.EndpointSlice)).list(parsed.namespace) as (KubeObject & {
    ports?: { name?: string; port: number }[];
    endpoints?: { addresses: string[]; conditions?: { ready?: boolean }; targetRef?: { name?: string } }[];
  })[];
  const pods = await source.snapshot(CoreKinds.Pod);
  const out: ResolvedEndpoint[] = [];
  for (const slice of slices) {
    if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== parsed.name) continue;
    const port = slice.ports?.find((p) => (p.name ?? '') === (servicePort.name ?? ''));
    if (!port) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      const ip = endpoint.addresses[0]!;
      const pod = pods.get(parsed.namespace, endpoint.targetRef?.name ?? '') as Pod | undefined;
      const identity = pod ? podIdentity(pod) : undefined;
      out.push({
        addr: `${ip}:${port.port}`,
        proxyAddr: `${ip}:${DefaultPort.Inbound}`,
        pod: endpoint.targetRef?.name ?? '',
        ...(identity ? { identity } : {}),
      });
    }
  }
  return out;
}

const MAX_BODY_BYTES = 64 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
};

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const { source, pods, tokens, logger } = options;
  const holds = new Set<ServerResponse>();

  const register = async (req: IncomingMessage, res: ServerResponse) => {
    let reg;
    try {
      reg = validateRegistration(JSON.parse(await readBody(req)));
    } catch (err) {
      sendJson(res, 400, { error: MeshError.is(err) ? err.describe() : (err as Error).message });
      return;
    }
    // A workload declared in the compact form passes on its config annotations (opaque ports).
    const declared = (await source.snapshot(CoreKinds.Pod)).get(reg.namespace, reg.workload);
    const inherited = Object.fromEntries(
      Object.entries(
        declared?.metadata?.labels?.[EXPANDED_FROM_LABEL] === reg.workload
          ? (declared.metadata.annotations ?? {})
          : {},
      ).filter(([key]) => key.startsWith('config.linkerd.io/')),
    );
    const pod = await pods.register({ ...reg, annotations: { ...inherited, ...reg.annotations } });
    const name = pod.metadata!.name!;
    const podIP = (pod.status as { podIP: string }).podIP;
    logger.info({ pod: `${reg.namespace}/${name}`, podIP }, 'workload registered');
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      holds.delete(res);
      pods.remove(reg.namespace, name);
      logger.info({ pod: `${reg.namespace}/${name}`, podIP }, 'workload gone');
    };
    res.on('close', release);
    holds.add(res);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write(
      `${JSON.stringify({
        pod,
        podIP,
        identity: podIdentity(pod as Pod),
        token: tokens.mint({ namespace: reg.namespace, serviceAccount: reg.serviceAccount }),
        trustAnchorsPem: options.trustAnchorsPem,
      })}\n`,
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method === 'POST' && url.pathname === '/v1/workloads') return register(req, res);
    if (req.method !== 'GET') return sendJson(res, 405, { error: `${req.method} is not served here` });
    switch (url.pathname) {
      case '/v1/pods':
        return sendJson(res, 200, { items: (await source.snapshot(CoreKinds.Pod)).list() });
      case '/v1/services':
        return sendJson(res, 200, { items: (await source.snapshot(CoreKinds.Service)).list() });
      case '/v1/resolve': {
        const authority = url.searchParams.get('authority') ?? '';
        const endpoints = await resolveAuthority(source, authority);
        if (!endpoints)
          return sendJson(res, 404, {
            error: `no Service port for ${JSON.stringify(authority)}`,
            hint: 'use svc.ns.svc.cluster.local:port of a Service in the manifest directory',
          });
        return sendJson(res, 200, { authority, endpoints });
      }
      case '/v1/status':
        return sendJson(res, 200, {
          manifestErrors: options.manifestErrors().map((e) => ({
            file: e.file,
            document: e.document,
            line: e.line,
            field: e.field,
            reason: e.reason,
            message: e.describe(),
          })),
          services: (await source.snapshot(CoreKinds.Service)).size,
          pods: (await source.snapshot(CoreKinds.Pod)).size,
        });
      default:
        return sendJson(res, 404, { error: `no such path ${url.pathname}` });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err: String(err) }, 'local API request failed');
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  // Registrations are held open for the workload's lifetime.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 1000;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0).catch(() => listen(0));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const res of holds) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
