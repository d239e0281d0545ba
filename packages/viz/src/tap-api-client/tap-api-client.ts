// A client of the cluster's tap APIService (v1alpha1.tap.linkerd.io) through the Kubernetes API:
// what `tsmesh viz tap --kubeconfig` and the in-cluster dashboard (`tsmesh viz web`) use, as
// `linkerd viz tap` and linkerd-viz's web call the same path with their own credentials. The
// kube-apiserver authenticates the caller and checks RBAC (`watch` on tap.linkerd.io), then its
// aggregator forwards the request to the tap server, which asks again with a SubjectAccessReview
// for the resource tapped. The path is a `/watch/` one so the apiserver treats it as long-running
// (no request timeout). The answer is server-sent events (`event: tap`, `event: error`).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  createTapHttpHandler,
  pluralResourceName,
  TAP_API_GROUP,
  TAP_API_VERSION,
  type TapCaller,
  type TapEventJson,
  type TapQuery,
  type TapService,
  type TapStreamItem,
  type TapTarget,
} from '../tap-service/index.js';

/**
 * What the client needs of a kubeconfig: the server and the credentials for a request.
 * `@kubernetes/client-node`'s KubeConfig is one (a file, or in-cluster with the pod's
 * ServiceAccount token).
 */
export interface KubeApiAccess {
  getCurrentCluster(): { readonly server: string } | null;
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

export interface KubeApiTapOptions {
  readonly kubeConfig: KubeApiAccess;
  /** Abort when the apiserver has not answered (status line) within this time; default 30 s. */
  readonly connectTimeoutMs?: number;
}

const targetText = (t: TapTarget) => (t.name ? `${t.type}/${t.name}` : t.type);

/**
 * `/apis/tap.linkerd.io/v1alpha1/watch/namespaces/NS[/TYPES/NAME]/tap?…`: the resource in the
 * path (what RBAC sees), the filters in the query, as the tap server routes them.
 */
export function tapApiPath(q: TapQuery): string {
  const r = q.resource;
  const base = `/apis/${TAP_API_GROUP}/${TAP_API_VERSION}/watch/namespaces/${encodeURIComponent(r.namespace)}`;
  const path =
    r.type === 'namespace' || !r.name
      ? r.type === 'namespace'
        ? `${base}/tap`
        : `${base}/${pluralResourceName(r.type)}/tap`
      : `${base}/${pluralResourceName(r.type)}/${encodeURIComponent(r.name)}/tap`;
  const params = new URLSearchParams({
    resource: targetText(r),
    namespace: r.namespace,
    maxRps: String(q.maxRps),
  });
  if (q.to) {
    params.set('toResource', targetText(q.to));
    params.set('toNamespace', q.to.namespace);
  }
  for (const k of ['method', 'path', 'authority', 'scheme'] as const) {
    const v = q[k];
    if (v) params.set(k, v);
  }
  if (q.extract) params.set('extract', 'true');
  return `${path}?${params}`;
}

const CODE_OF_STATUS: Partial<Record<number, MeshErrorCode>> = {
  400: MeshErrorCode.InvalidArgument,
  401: MeshErrorCode.Unauthenticated,
  403: MeshErrorCode.PermissionDenied,
  404: MeshErrorCode.NotFound,
};

async function failureOf(res: IncomingMessage, where: string): Promise<MeshError> {
  let body = '';
  for await (const c of res) {
    body += String(c);
    if (body.length > 64 * 1024) break;
  }
  let message = body.trim().slice(0, 2000);
  try {
    // The tap server answers {error}, the apiserver a Status with message.
    const json = JSON.parse(body) as { error?: string; message?: string };
    message = json.error ?? json.message ?? message;
  } catch {
    // not JSON: keep the text
  }
  const status = res.statusCode ?? 0;
  return new MeshError(
    CODE_OF_STATUS[status] ?? MeshErrorCode.Unavailable,
    `the tap API answered ${status}: ${message}`,
    {
      where,
      hint:
        status === 403
          ? 'the caller needs watch on tap.linkerd.io (a RoleBinding to linkerd-linkerd-viz-tap-admin)'
          : status === 401
            ? 'the credentials were refused by the Kubernetes API'
            : 'is viz installed and its tap APIService available? `tsmesh viz check`',
    },
  );
}

/** Server-sent events (`event: NAME` / `data: JSON` blocks) as tap stream items. */
async function* sseItems(res: IncomingMessage, signal: AbortSignal): AsyncGenerator<TapStreamItem> {
  let buffer = '';
  res.setEncoding('utf8');
  try {
    for await (const chunk of res) {
      buffer += (chunk as string).replaceAll('\r\n', '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: ?(.*)$/m.exec(message)?.[1];
        const data = /^data: ?(.*)$/m.exec(message)?.[1];
        if (data === undefined) continue; // a keep-alive comment
        let json: unknown;
        try {
          json = JSON.parse(data);
        } catch {
          yield {
            kind: 'error',
            error: new MeshError(MeshErrorCode.Decode, `tap event is not JSON: ${data.slice(0, 200)}`),
          };
          continue;
        }
        if (event === 'tap') yield { kind: 'event', event: json as TapEventJson };
        else if (event === 'error')
          yield {
            kind: 'error',
            error: new MeshError(
              MeshErrorCode.Unavailable,
              String((json as { error?: unknown }).error ?? data),
            ),
          };
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw new MeshError(MeshErrorCode.Unavailable, `the tap stream failed: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    res.destroy();
  }
}

/**
 * Opens one tap through the Kubernetes API. Resolves once the tap server answered 200 (errors
 * before streaming reject with a MeshError: 403 → PermissionDenied, 404 → NotFound …); the
 * stream ends when the signal aborts or the server closes it.
 */
export async function tapThroughKubeApi(
  o: KubeApiTapOptions,
  query: TapQuery,
  signal: AbortSignal,
): Promise<AsyncIterable<TapStreamItem>> {
  const cluster = o.kubeConfig.getCurrentCluster();
  if (!cluster)
    throw new MeshError(MeshErrorCode.Config, 'the kubeconfig has no current cluster', {
      where: 'kubeconfig',
    });
  const server = new URL(cluster.server);
  const url = new URL(server.pathname.replace(/\/$/, '') + tapApiPath(query), server);
  const options: RequestOptions = { method: 'GET', headers: { accept: 'text/event-stream' } };
  try {
    await o.kubeConfig.applyToHTTPSOptions(options);
  } catch (cause) {
    throw new MeshError(MeshErrorCode.Config, `cannot use the kubeconfig's credentials: ${String(cause)}`, {
      cause,
      where: 'kubeconfig',
    });
  }
  if (signal.aborted) throw new MeshError(MeshErrorCode.Aborted, 'tap aborted', { cause: signal.reason });
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = o.connectTimeoutMs ?? 30_000;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(url, { ...options, signal });
    const timer = setTimeout(
      () =>
        req.destroy(
          new MeshError(MeshErrorCode.Timeout, `the Kubernetes API did not answer within ${timeoutMs} ms`, {
            where: url.pathname,
          }),
        ),
      timeoutMs,
    );
    req.on('response', (r) => {
      clearTimeout(timer);
      resolve(r);
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      if (signal.aborted)
        reject(new MeshError(MeshErrorCode.Aborted, 'tap aborted', { cause: signal.reason }));
      else if (MeshError.is(err)) reject(err);
      else
        reject(
          new MeshError(MeshErrorCode.Unavailable, `cannot reach the Kubernetes API: ${err.message}`, {
            cause: err,
            where: server.origin,
          }),
        );
    });
    req.end();
  });
  if (res.statusCode !== 200) throw await failureOf(res, url.pathname);
  return sseItems(res, signal);
}

/**
 * The tap service as seen through the Kubernetes API (for createTapHttpHandler): each tap is one
 * request to the APIService with the kubeconfig's credentials.
 */
export function createKubeApiTapService(o: KubeApiTapOptions): Pick<TapService, 'tap'> {
  return { tap: (query, signal) => tapThroughKubeApi(o, query, signal) };
}

/**
 * The in-cluster dashboard's /api/tap and /api/top: the tap HTTP API (createTapHttpHandler)
 * over the APIService with the dashboard's own credentials (its ServiceAccount, bound to
 * linkerd-<ns>-tap-admin as linkerd-viz binds web's). Who may open the dashboard is decided in
 * front of it (the Host check, port-forward, the apiserver's service proxy); who may tap what is
 * decided by the Kubernetes API and the tap server for the dashboard's identity, as in linkerd-viz.
 */
export function createKubeApiTapHandler(
  o: KubeApiTapOptions & { readonly keepAliveMs?: number; readonly topIntervalMs?: number },
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const dashboard: TapCaller = { user: 'dashboard', groups: [] };
  return createTapHttpHandler({
    service: createKubeApiTapService(o),
    authenticate: () => dashboard,
    authorize: async () => ({ allowed: true, reason: 'the Kubernetes API and the tap server decide' }),
    ...(o.keepAliveMs !== undefined ? { keepAliveMs: o.keepAliveMs } : {}),
    ...(o.topIntervalMs !== undefined ? { topIntervalMs: o.topIntervalMs } : {}),
  });
}
