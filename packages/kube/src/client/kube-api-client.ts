// A small JSON client for the Kubernetes API over @kubernetes/client-node's KubeConfig (which
// supplies the server, TLS material and credentials). Objects stay plain JSON in both list and
// watch results — client-node's generated models would turn timestamps into Dates on list but not
// on watch — and every call takes an AbortSignal.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest, type AgentOptions } from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  apiVersionOf,
  type KubeObject,
  type KubeObjectInput,
  type ResourceKind,
} from '../resources/index.js';
import { KubeApiError, type KubeStatus } from './kube-api-error.js';

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, e.g. `/api/v1/namespaces`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Content type of the body; default application/json. */
  contentType?: string;
  signal?: AbortSignal;
  /** Abort if no response within this time. Default 30 s. */
  timeoutMs?: number;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; pages are followed until the list is complete. Default 500. */
  limit?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Start after this version (from a list or the last event seen). */
  resourceVersion?: string;
  /** Ask for BOOKMARK events, which move the resourceVersion forward without changes. */
  allowWatchBookmarks?: boolean;
  /** The server ends the watch after this many seconds. Default 300 (jittered by callers). */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface ObjectRef {
  namespace?: string;
  name: string;
}

export interface KubeApiClient {
  /** The server URL, for messages. */
  readonly server: string;
  request<T = unknown>(options: RequestOptions): Promise<T>;
  list<T extends KubeObject = KubeObject>(kind: ResourceKind, options?: ListOptions): Promise<KubeList<T>>;
  /**
   * Watch a kind. The iterable throws KubeApiError for HTTP failures and for ERROR events (410 Gone
   * when the resourceVersion is too old) and ends when the server closes the stream or the signal
   * aborts.
   */
  watch<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options?: WatchOptions,
  ): AsyncIterable<WatchEvent<T>>;
  get<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    ref: ObjectRef,
    options?: { signal?: AbortSignal },
  ): Promise<T>;
  create<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    object: KubeObjectInput,
    options?: MutationOptions,
  ): Promise<T>;
  replace<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    object: KubeObjectInput,
    options?: MutationOptions,
  ): Promise<T>;
  /** Server-side apply (PATCH application/apply-patch+yaml). */
  apply<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    object: KubeObjectInput,
    options?: ApplyOptions,
  ): Promise<T>;
  delete(kind: ResourceKind, ref: ObjectRef, options?: DeleteOptions): Promise<void>;
  /** Release pooled connections. */
  close(): void;
}

export interface MutationOptions {
  dryRun?: boolean;
  fieldManager?: string;
  signal?: AbortSignal;
}

export interface ApplyOptions extends MutationOptions {
  force?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  signal?: AbortSignal;
}

export interface CreateKubeApiClientOptions {
  /** Field manager for apply and writes. Default `tsmesh`. */
  fieldManager?: string;
  userAgent?: string;
}

/** `/api/v1/...` or `/apis/group/version/...` for a kind, optionally one object or a subresource. */
export function resourcePath(
  kind: Pick<ResourceKind, 'group' | 'version' | 'plural' | 'namespaced'>,
  options: { namespace?: string; name?: string; subresource?: string } = {},
): string {
  let path = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  if (kind.namespaced && options.namespace) path += `/namespaces/${encodeURIComponent(options.namespace)}`;
  path += `/${kind.plural}`;
  if (options.name) path += `/${encodeURIComponent(options.name)}`;
  if (options.subresource) path += `/${options.subresource}`;
  return path;
}

function objectRefOf(object: KubeObjectInput): ObjectRef {
  const name = object.metadata?.name;
  if (!name) throw new MeshError(MeshErrorCode.InvalidArgument, 'object has no metadata.name');
  return { name, namespace: object.metadata?.namespace };
}

interface Transport {
  server: URL;
  agent: Agent | undefined;
  headers: Record<string, string>;
}

export function createKubeApiClient(
  kubeConfig: KubeConfig,
  options: CreateKubeApiClientOptions = {},
): KubeApiClient {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster)
    throw new MeshError(MeshErrorCode.Config, 'the kubeconfig has no current cluster', {
      where: 'kubeconfig',
    });
  const server = new URL(cluster.server);
  const fieldManager = options.fieldManager ?? 'tsmesh';
  const userAgent = options.userAgent ?? 'tsmesh-kube';
  let agent: Agent | undefined;

  // Credentials are applied per request (tokens may rotate); the TLS agent is built once and
  // keeps connections alive.
  async function transport(): Promise<Transport> {
    const opts: Record<string, unknown> & { headers?: Record<string, string> } = {};
    await kubeConfig.applyToHTTPSOptions(opts as never);
    const headers: Record<string, string> = { 'user-agent': userAgent };
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = String(v);
    if (typeof opts.auth === 'string')
      headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    if (server.protocol === 'https:' && !agent) {
      // No socket cap: every watch holds a connection for minutes.
      const agentOptions: AgentOptions = { keepAlive: true };
      for (const key of [
        'ca',
        'cert',
        'key',
        'pfx',
        'passphrase',
        'rejectUnauthorized',
        'servername',
      ] as const) {
        if (opts[key] !== undefined && opts[key] !== null)
          (agentOptions as Record<string, unknown>)[key] = opts[key];
      }
      agent = new Agent(agentOptions);
    }
    return { server, agent, headers };
  }

  function url(path: string, query: RequestOptions['query'] = {}): URL {
    const base = server.pathname.replace(/\/$/, '');
    const u = new URL(base + path, server);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  async function open(
    method: string,
    target: URL,
    body: string | undefined,
    contentType: string,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<IncomingMessage> {
    let t: Transport;
    try {
      t = await transport();
    } catch (err) {
      throw new MeshError(
        MeshErrorCode.Config,
        `cannot use the kubeconfig's credentials: ${(err as Error).message}`,
        {
          where: 'kubeconfig',
          cause: err,
        },
      );
    }
    if (signal?.aborted)
      throw new MeshError(MeshErrorCode.Aborted, 'request aborted', { cause: signal.reason });
    const headers: Record<string, string> = { ...t.headers, accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(target, {
        method,
        headers,
        agent: target.protocol === 'https:' ? t.agent : undefined,
        signal,
      });
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          req.destroy(
            new MeshError(MeshErrorCode.Timeout, `no response within ${timeoutMs} ms`, {
              where: `${method} ${target.pathname}`,
            }),
          );
        }, timeoutMs);
      }
      req.on('response', (res) => {
        if (timer) clearTimeout(timer);
        resolve(res);
      });
      req.on('error', (err) => {
        if (timer) clearTimeout(timer);
        if (signal?.aborted)
          reject(new MeshError(MeshErrorCode.Aborted, 'request aborted', { cause: signal.reason }));
        else if (MeshError.is(err)) reject(err);
        else
          reject(
            new MeshError(MeshErrorCode.Unavailable, `${method} ${target.pathname}: ${err.message}`, {
              cause: err,
              where: server.origin,
            }),
          );
      });
      req.end(body);
    });
  }

  async function readBody(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function failure(statusCode: number, text: string, where: string): KubeApiError {
    let status: KubeStatus;
    try {
      status = JSON.parse(text) as KubeStatus;
    } catch {
      status = { message: text.trim().slice(0, 500) || `HTTP ${statusCode}` };
    }
    return new KubeApiError(statusCode, status, where);
  }

  async function request<T>(o: RequestOptions): Promise<T> {
    const method = o.method ?? 'GET';
    const target = url(o.path, o.query);
    const body =
      o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    const res = await open(
      method,
      target,
      body,
      o.contentType ?? 'application/json',
      o.signal,
      o.timeoutMs ?? 30_000,
    );
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw failure(status, text, `${method} ${o.path}`);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new MeshError(MeshErrorCode.Decode, `response is not JSON: ${(err as Error).message}`, {
        where: `${method} ${o.path}`,
      });
    }
  }

  function withTypeMeta<T extends KubeObjectInput>(kind: ResourceKind, object: T): T {
    // List items come without apiVersion/kind; fill them in so every object is self-describing.
    if (!object.apiVersion) object.apiVersion = apiVersionOf(kind);
    if (!object.kind) object.kind = kind.kind;
    return object;
  }

  async function list<T extends KubeObject>(kind: ResourceKind, o: ListOptions = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let last: KubeList<T> | undefined;
    do {
      last = await request<KubeList<T>>({
        path: resourcePath(kind, { namespace: o.namespace }),
        query: {
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          limit: o.limit ?? 500,
          continue: cont,
        },
        signal: o.signal,
        timeoutMs: o.timeoutMs,
      });
      for (const item of last.items ?? []) items.push(withTypeMeta(kind, item));
      cont = last.metadata?.continue || undefined;
    } while (cont);
    return {
      apiVersion: last.apiVersion,
      kind: last.kind,
      metadata: { resourceVersion: last.metadata?.resourceVersion },
      items,
    };
  }

  async function* watch<T extends KubeObject>(
    kind: ResourceKind,
    o: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const path = resourcePath(kind, { namespace: o.namespace });
    const timeoutSeconds = o.timeoutSeconds ?? 300;
    const target = url(path, {
      watch: 1,
      resourceVersion: o.resourceVersion,
      allowWatchBookmarks: o.allowWatchBookmarks,
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
      timeoutSeconds,
    });
    const controller = new AbortController();
    const onAbort = () => controller.abort(o.signal?.reason);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let res: IncomingMessage;
      try {
        res = await open('GET', target, undefined, 'application/json', controller.signal, 30_000);
      } catch (err) {
        if (o.signal?.aborted) return;
        throw err;
      }
      const status = res.statusCode ?? 0;
      if (status !== 200) throw failure(status, await readBody(res), `WATCH ${path}`);
      // A connection that goes silent (no events, no bookmarks) past the server timeout is dead.
      res.socket?.setTimeout((timeoutSeconds + 30) * 1000, () => res.destroy());
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      try {
        for await (const line of lines) {
          if (!line.trim()) continue;
          let event: { type: string; object: unknown };
          try {
            event = JSON.parse(line) as { type: string; object: unknown };
          } catch (err) {
            throw new MeshError(MeshErrorCode.Decode, `watch event is not JSON: ${(err as Error).message}`, {
              where: `WATCH ${path}`,
            });
          }
          if (event.type === 'ERROR') {
            const st = event.object as KubeStatus;
            throw new KubeApiError(st.code ?? 500, st, `WATCH ${path}`);
          }
          const object = event.object as T;
          yield {
            type: event.type as WatchEventType,
            object: event.type === 'BOOKMARK' ? object : withTypeMeta(kind, object),
          };
        }
      } catch (err) {
        if (o.signal?.aborted) return;
        if (MeshError.is(err)) throw err;
        throw new MeshError(MeshErrorCode.Unavailable, `watch stream failed: ${(err as Error).message}`, {
          cause: err,
          where: `WATCH ${path}`,
        });
      } finally {
        lines.close();
        res.destroy();
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      controller.abort();
    }
  }

  return {
    server: server.origin,
    request,
    list,
    watch,
    async get<T extends KubeObject>(kind: ResourceKind, ref: ObjectRef, o: { signal?: AbortSignal } = {}) {
      return withTypeMeta(kind, await request<T>({ path: resourcePath(kind, ref), signal: o.signal }));
    },
    async create<T extends KubeObject>(kind: ResourceKind, object: KubeObjectInput, o: MutationOptions = {}) {
      const ref = { namespace: object.metadata?.namespace };
      return request<T>({
        method: 'POST',
        path: resourcePath(kind, ref),
        query: { fieldManager: o.fieldManager ?? fieldManager, dryRun: o.dryRun ? 'All' : undefined },
        body: withTypeMeta(kind, { ...object }),
        signal: o.signal,
      });
    },
    async replace<T extends KubeObject>(
      kind: ResourceKind,
      object: KubeObjectInput,
      o: MutationOptions = {},
    ) {
      return request<T>({
        method: 'PUT',
        path: resourcePath(kind, objectRefOf(object)),
        query: { fieldManager: o.fieldManager ?? fieldManager, dryRun: o.dryRun ? 'All' : undefined },
        body: withTypeMeta(kind, { ...object }),
        signal: o.signal,
      });
    },
    async apply<T extends KubeObject>(kind: ResourceKind, object: KubeObjectInput, o: ApplyOptions = {}) {
      return request<T>({
        method: 'PATCH',
        path: resourcePath(kind, objectRefOf(object)),
        query: {
          fieldManager: o.fieldManager ?? fieldManager,
          force: o.force,
          dryRun: o.dryRun ? 'All' : undefined,
        },
        body: withTypeMeta(kind, { ...object }),
        contentType: 'application/apply-patch+yaml',
        signal: o.signal,
      });
    },
    async delete(kind: ResourceKind, ref: ObjectRef, o: DeleteOptions = {}) {
      await request({
        method: 'DELETE',
        path: resourcePath(kind, ref),
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          gracePeriodSeconds: o.gracePeriodSeconds,
          propagationPolicy: o.propagationPolicy,
        },
        signal: o.signal,
      });
    },
    close() {
      agent?.destroy();
      agent = undefined;
    },
  };
}
