// The tap APIService client over real HTTP: a stand-in for the Kubernetes API (plain HTTP on
// 127.0.0.1) that records the request and answers as the apiserver and the tap server do —
// server-sent events, or an error status — to check the path and query, the credentials from the
// kubeconfig, the parsing of events (split across chunks, keep-alive comments, `event: error`),
// the status → MeshError mapping, and that aborting closes the upstream request. The dashboard's
// handler over it is checked through a real dashboard server. The real aggregator is exercised by
// packages/cli/test/integration/viz-web-tap.test.ts and the one-node cluster's e2e suite.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { startDashboardServer } from '../dashboard/index.js';
import { parseTapQuery, type TapEventJson } from '../tap-service/index.js';
import {
  createKubeApiTapHandler,
  tapApiPath,
  tapThroughKubeApi,
  type KubeApiAccess,
} from './tap-api-client.js';

const event = (stream: number, path = '/api/list'): TapEventJson => ({
  source: { ip: '198.18.0.4', port: 51234, metadata: { namespace: 'emojivoto', deployment: 'vote-bot' } },
  destination: { ip: '198.18.0.2', port: 8080, metadata: { namespace: 'emojivoto', deployment: 'web' } },
  routeMeta: {},
  proxyDirection: 'INBOUND',
  requestInitEvent: {
    id: { base: 1, stream },
    method: 'GET',
    scheme: 'http',
    authority: 'web-svc.emojivoto:80',
    path,
    headers: [],
  },
});

/** The three events of one request, as a proxy's tap sends them. */
const exchange = (stream: number, path: string): TapEventJson[] => {
  const req = event(stream, path);
  const { requestInitEvent: _, ...rest } = req;
  const id = { base: 1, stream };
  const d = { seconds: 0, nanos: 2_000_000 };
  return [
    req,
    { ...rest, responseInitEvent: { id, sinceRequestInit: d, httpStatus: 200, headers: [] } },
    {
      ...rest,
      responseEndEvent: { id, sinceRequestInit: d, sinceResponseInit: d, responseBytes: 10, trailers: [] },
    },
  ];
};

const sse = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

interface Upstream {
  readonly access: KubeApiAccess;
  readonly requests: IncomingMessage[];
  /** Resolves when the upstream saw its client go away. */
  closed(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function upstream(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  const requests: IncomingMessage[] = [];
  let onClose: () => void = () => {};
  const gone = new Promise<void>((resolve) => (onClose = resolve));
  const server = createServer((req, res) => {
    requests.push(req);
    res.on('close', onClose);
    answer(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    access: {
      getCurrentCluster: () => ({ server: `http://127.0.0.1:${port}` }),
      applyToHTTPSOptions: async (o) => {
        o.headers = { ...o.headers, authorization: 'Bearer sa-token' };
      },
    },
    requests,
    closed: () => gone,
  };
}

describe('tapApiPath', () => {
  it('puts the resource in the path (what RBAC sees) and the filters in the query', () => {
    const q = parseTapQuery({
      resource: 'deploy/web',
      namespace: 'emojivoto',
      toResource: 'svc/voting-svc',
      method: 'POST',
      path: '/emojivoto.v1.VotingService/',
      maxRps: 5,
      extract: true,
    });
    const url = new URL(tapApiPath(q), 'https://apiserver');
    expect(url.pathname).toBe('/apis/tap.linkerd.io/v1alpha1/watch/namespaces/emojivoto/deployments/web/tap');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      resource: 'deployment/web',
      namespace: 'emojivoto',
      maxRps: '5',
      toResource: 'service/voting-svc',
      toNamespace: 'emojivoto',
      method: 'POST',
      path: '/emojivoto.v1.VotingService/',
      extract: 'true',
    });
    expect(new URL(tapApiPath(parseTapQuery({ resource: 'ns/emojivoto' })), 'https://a').pathname).toBe(
      '/apis/tap.linkerd.io/v1alpha1/watch/namespaces/emojivoto/tap',
    );
  });
});

describe('tapThroughKubeApi', () => {
  it('streams tap events split across chunks, skips keep-alives, reports event: error', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const text = sse('tap', event(1)) + ': keep-alive\n\n' + sse('error', { error: 'pod web-1: refused' });
      // Cut inside a message: the client must join the chunks.
      res.write(text.slice(0, 17));
      setTimeout(() => res.end(text.slice(17) + sse('tap', event(2))), 20);
    });
    const items = [];
    const controller = new AbortController();
    for await (const item of await tapThroughKubeApi(
      { kubeConfig: up.access },
      parseTapQuery({ resource: 'deploy/web', namespace: 'emojivoto' }),
      controller.signal,
    ))
      items.push(item);
    expect(
      items.map((i) => (i.kind === 'event' ? i.event.requestInitEvent?.id.stream : i.error.message)),
    ).toEqual([1, 'pod web-1: refused', 2]);
    const req = up.requests[0]!;
    expect(req.headers.authorization).toBe('Bearer sa-token');
    expect(req.headers.accept).toBe('text/event-stream');
    expect(req.url).toMatch(
      /^\/apis\/tap\.linkerd\.io\/v1alpha1\/watch\/namespaces\/emojivoto\/deployments\/web\/tap\?/,
    );
  });

  it.each([
    [
      403,
      { kind: 'Status', message: 'deployments.tap.linkerd.io "web" is forbidden' },
      MeshErrorCode.PermissionDenied,
    ],
    [404, { error: 'no pods to tap for deployment/web' }, MeshErrorCode.NotFound],
    [503, { kind: 'Status', message: 'service unavailable' }, MeshErrorCode.Unavailable],
  ] as const)('maps an answer %i to a MeshError with its message', async (status, body, code) => {
    const up = await upstream((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    const err = await tapThroughKubeApi(
      { kubeConfig: up.access },
      parseTapQuery({ resource: 'deploy/web', namespace: 'emojivoto' }),
      new AbortController().signal,
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(MeshError.is(err)).toBe(true);
    expect((err as MeshError).code).toBe(code);
    expect((err as MeshError).message).toContain('message' in body ? body.message : body.error);
  });

  it('ends quietly when aborted, closing the request to the API', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse('tap', event(1)));
    });
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const item of await tapThroughKubeApi(
      { kubeConfig: up.access },
      parseTapQuery({ resource: 'deploy/web', namespace: 'emojivoto' }),
      controller.signal,
    )) {
      if (item.kind === 'event') seen.push(item.event.requestInitEvent?.id.stream ?? -1);
      controller.abort();
    }
    expect(seen).toEqual([1]);
    await up.closed();
  });

  it('says what is wrong when the API cannot be reached', async () => {
    const err = await tapThroughKubeApi(
      {
        kubeConfig: {
          getCurrentCluster: () => ({ server: 'http://127.0.0.1:1' }),
          applyToHTTPSOptions: async () => {},
        },
      },
      parseTapQuery({ resource: 'deploy/web' }),
      new AbortController().signal,
    ).catch((e: unknown) => e as MeshError);
    expect(err).toMatchObject({ code: MeshErrorCode.Unavailable });
    expect((err as MeshError).message).toContain('cannot reach the Kubernetes API');
  });
});

describe('createKubeApiTapHandler in the dashboard', () => {
  it('serves /api/tap and /api/top from the APIService, and passes its refusals on', async () => {
    let refuse = false;
    const up = await upstream((req, res) => {
      if (refuse) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            message: 'forbidden: User "system:serviceaccount:linkerd-viz:web"',
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        [...exchange(1, '/api/vote'), ...exchange(2, '/api/vote')].map((e) => sse('tap', e)).join(''),
      );
      void req;
    });
    const dashboard = await startDashboardServer({
      source: {
        mode: 'prometheus',
        windowSeconds: 60,
        vectors: () => undefined,
        refresh: async () => {},
        problems: () => [],
      },
      tap: (() => {
        const h = createKubeApiTapHandler({ kubeConfig: up.access, topIntervalMs: 50 });
        return (req, res) => void h(req, res);
      })(),
      intervalMs: 60_000,
    });
    try {
      const read = (path: string, until: (text: string) => boolean) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = request(`${dashboard.url}${path.slice(1)}`, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (c: string) => {
              text += c;
              if (until(text)) {
                resolve({ status: res.statusCode ?? 0, text });
                req.destroy();
              }
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          });
          req.on('error', reject).end();
        });
      const tap = await read(
        '/api/tap?resource=deploy/web&namespace=emojivoto',
        (t) => t.split('event: tap').length > 6,
      );
      expect(tap.status).toBe(200);
      const data = [...tap.text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as TapEventJson);
      expect(data.filter((e) => e.requestInitEvent).map((e) => e.requestInitEvent?.id.stream)).toEqual([
        1, 2,
      ]);
      expect(data).toHaveLength(6);
      const top = await read('/api/top?resource=deploy/web&namespace=emojivoto', (t) =>
        t.includes('"count":2'),
      );
      expect(top.text).toMatch(/event: top\ndata: .*"path":"\/api\/vote".*"count":2/);
      expect(up.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sa-token', 'Bearer sa-token']);
      refuse = true;
      const refused = await read('/api/tap?resource=deploy/web&namespace=emojivoto', () => false);
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.text)).toMatchObject({ error: expect.stringContaining('forbidden') });
    } finally {
      await dashboard.close();
    }
  });
});
