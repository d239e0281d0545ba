import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { MeshError } from '@tsmesh/core';
import { CoreKinds, MeshKinds } from '../resources/index.js';
import { createKubeApiClient, resourcePath, type KubeApiClient } from './kube-api-client.js';
import { isGone, isNotFound, KubeApiError } from './kube-api-error.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server | undefined;
let client: KubeApiClient | undefined;
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

async function serve(handler: Handler): Promise<KubeApiClient> {
  seen.length = 0;
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u', token: 's3cret' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  client = createKubeApiClient(kc, { fieldManager: 'unit' });
  return client;
}

afterEach(async () => {
  client?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

describe('resourcePath', () => {
  it('builds core, grouped, namespaced, named and subresource paths', () => {
    expect(resourcePath(CoreKinds.Pod)).toBe('/api/v1/pods');
    expect(resourcePath(CoreKinds.Pod, { namespace: 'a', name: 'b', subresource: 'status' })).toBe(
      '/api/v1/namespaces/a/pods/b/status',
    );
    expect(resourcePath(MeshKinds.Server, { namespace: 'a' })).toBe(
      '/apis/policy.linkerd.io/v1beta3/namespaces/a/servers',
    );
    expect(resourcePath(CoreKinds.Namespace, { namespace: 'ignored', name: 'n' })).toBe(
      '/api/v1/namespaces/n',
    );
  });
});

describe('createKubeApiClient', () => {
  it('lists every page, fills in apiVersion/kind and sends the credentials', async () => {
    const c = await serve((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (!url.searchParams.get('continue'))
        json(res, 200, {
          metadata: { resourceVersion: '5', continue: 'p2' },
          items: [{ metadata: { name: 'a' } }],
        });
      else json(res, 200, { metadata: { resourceVersion: '5' }, items: [{ metadata: { name: 'b' } }] });
    });
    const list = await c.list(CoreKinds.Pod, { namespace: 'ns', labelSelector: 'app=web', limit: 1 });
    expect(list.metadata.resourceVersion).toBe('5');
    expect(list.items).toEqual([
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b' } },
    ]);
    expect(seen.map((s) => s.url)).toEqual([
      '/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb&limit=1',
      '/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb&limit=1&continue=p2',
    ]);
    expect(seen[0]!.headers.authorization).toBe('Bearer s3cret');
  });

  it('turns failures into KubeApiError with status, reason and causes', async () => {
    const c = await serve((req, res) => {
      if (req.method === 'POST') {
        json(res, 422, {
          kind: 'Status',
          status: 'Failure',
          reason: 'Invalid',
          code: 422,
          message: 'Server.policy.linkerd.io "x" is invalid: spec.port: Required value',
          details: {
            causes: [{ reason: 'FieldValueRequired', field: 'spec.port', message: 'Required value' }],
          },
        });
      } else if (req.url!.includes('plain')) {
        res.writeHead(503).end('upstream down');
      } else
        json(res, 404, {
          kind: 'Status',
          reason: 'NotFound',
          code: 404,
          message: 'servers "nope" not found',
        });
    });
    const invalid = await c
      .create(MeshKinds.Server, { metadata: { name: 'x', namespace: 'n' }, spec: {} })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(KubeApiError);
    expect(invalid).toBeInstanceOf(MeshError);
    expect(invalid).toMatchObject({
      statusCode: 422,
      reason: 'Invalid',
      code: 'invalid_argument',
      causes: [{ field: 'spec.port' }],
    });
    expect(JSON.parse(seen[0]!.body)).toMatchObject({
      apiVersion: 'policy.linkerd.io/v1beta3',
      kind: 'Server',
    });
    const missing = await c.get(MeshKinds.Server, { namespace: 'n', name: 'nope' }).catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    expect((missing as MeshError).code).toBe('not_found');
    const plain = await c.request({ path: '/plain' }).catch((e: unknown) => e);
    expect(plain).toMatchObject({ statusCode: 503, code: 'unavailable', message: 'upstream down' });
    // A MeshError that is not a KubeApiError is not mistaken for one.
    expect(new MeshError('internal', 'x') instanceof KubeApiError).toBe(false);
  });

  it('applies with server-side apply', async () => {
    const c = await serve((_req, res, body) => json(res, 200, JSON.parse(body)));
    await c.apply(
      CoreKinds.ConfigMap,
      { metadata: { name: 'm', namespace: 'n' }, data: { a: 'b' } },
      { force: true },
    );
    expect(seen[0]).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/namespaces/n/configmaps/m?fieldManager=unit&force=true',
    });
    expect(seen[0]!.headers['content-type']).toBe('application/apply-patch+yaml');
  });

  it('streams watch events, bookmarks included, and throws on ERROR events', async () => {
    const c = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(
        `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } })}\n`,
      );
      res.write(
        `${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', metadata: { resourceVersion: '3' } } })}\n\n`,
      );
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`,
      );
      expect(req.url).toBe(
        '/api/v1/pods?watch=1&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=300',
      );
    });
    const events: unknown[] = [];
    const err = await (async () => {
      for await (const e of c.watch(CoreKinds.Pod, { resourceVersion: '1', allowWatchBookmarks: true }))
        events.push(e);
    })().catch((e: unknown) => e);
    expect(events).toEqual([
      {
        type: 'ADDED',
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', resourceVersion: '2' } },
      },
      { type: 'BOOKMARK', object: { kind: 'Pod', metadata: { resourceVersion: '3' } } },
    ]);
    expect(isGone(err)).toBe(true);
  });

  it('a watch refused with HTTP 410 throws Gone; a garbled line is a Decode error', async () => {
    let call = 0;
    const c = await serve((_req, res) => {
      if (call++ === 0) return json(res, 410, { kind: 'Status', code: 410, reason: 'Gone', message: 'gone' });
      res.writeHead(200);
      res.end('{not json\n');
    });
    const first = await (async () => {
      for await (const _ of c.watch(CoreKinds.Pod)) void _;
    })().catch((e: unknown) => e);
    expect(isGone(first)).toBe(true);
    const second = await (async () => {
      for await (const _ of c.watch(CoreKinds.Pod)) void _;
    })().catch((e: unknown) => e);
    expect(second).toMatchObject({ code: 'decode' });
  });

  it('a watch ends quietly when its signal aborts', async () => {
    const c = await serve((_req, res) => {
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
      // …and then nothing: the stream stays open.
    });
    const controller = new AbortController();
    const names: string[] = [];
    for await (const event of c.watch(CoreKinds.Pod, { signal: controller.signal })) {
      names.push(event.object.metadata!.name!);
      controller.abort();
    }
    expect(names).toEqual(['a']);
  });

  it('a server that does not answer times out with a Timeout MeshError; an unreachable one is Unavailable', async () => {
    const c = await serve(() => {});
    await expect(c.request({ path: '/slow', timeoutMs: 50 })).rejects.toMatchObject({ code: 'timeout' });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const down = createKubeApiClient(kc);
    await expect(down.request({ path: '/x' })).rejects.toMatchObject({ code: 'unavailable' });
  });
});
