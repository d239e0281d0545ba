// `tsmesh viz tap|top` against the running demo: the CLI (as the local tap service, with the tap
// identity signed by the demo's issuer) opens Observe on the proxies' control ports over mutual
// TLS and prints live request/response/end lines with the right fields; top folds them into its
// table; the HTTP API streams the same events as server-sent events to a caller with the state
// directory's token and refuses one without it.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearerTokenAuthenticator,
  createTapHttpHandler,
  parseTapQuery,
  renderTapLine,
  type TapQuery,
} from '@tsmesh/viz';
import { localTapService } from '../../src/commands/viz-tap.js';
import { built, startDemo, type DemoProcess } from './demo-process.js';
import { runTsmesh } from './viz-support.js';

describe.skipIf(!built)('tsmesh viz tap and top on the demo', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsmesh-viz-tap-'));
  const state = join(root, 'demo');
  let demo: DemoProcess;

  beforeAll(async () => {
    demo = startDemo(state, ['--duration', '150s']);
    await demo.up();
  }, 120_000);

  /** `tsmesh viz CMD RESOURCE -n emojivoto --state STATE FLAG VALUE …` (FLAG: --duration or --window). */
  const viz = (cmd: string, resource: string, flag: string, value: string, ...rest: string[]) =>
    runTsmesh(['viz', cmd, resource, '-n', 'emojivoto', '--state', state, flag, value, ...rest]);

  afterAll(async () => {
    await demo?.stop('SIGINT');
    rmSync(root, { recursive: true, force: true });
  });

  /**
   * Tap lines (as `viz tap` renders them) from the local tap service until `done` says enough or
   * a bounded time passes: on a loaded machine a fixed window may catch too little traffic.
   */
  async function tapLines(query: TapQuery, wide: boolean, done: (lines: string[]) => boolean) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 40_000);
    const lines: string[] = [];
    try {
      for await (const item of await localTapService(state).tap(query, controller.signal)) {
        if (item.kind === 'event')
          lines.push(renderTapLine(item.event, wide ? query.resource.type : undefined));
        if (done(lines)) break;
      }
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    return lines;
  }

  /** The stream ids whose req, rsp and end lines were all seen. */
  const completeIds = (lines: readonly string[]) => {
    const kinds = new Map<string, string[]>();
    for (const l of lines) {
      const id = /^\w+ id=(\d+:\d+) /.exec(l)?.[1];
      if (id) kinds.set(id, [...(kinds.get(id) ?? []), l.slice(0, 3)]);
    }
    return [...kinds].filter(([, k]) => k.join() === 'req,rsp,end').map(([id]) => id);
  };

  it('streams req, rsp and end lines of the web deployment (inbound, HTTP)', async () => {
    const query = parseTapQuery({ resource: 'deploy/web', namespace: 'emojivoto', method: 'GET' });
    const lines = await tapLines(query, false, (l) => completeIds(l).length > 0);
    const id = completeIds(lines)[0];
    expect(id, lines.join('\n')).toBeDefined();
    const [req, rsp, end] = lines.filter((l) => l.includes(`id=${id} `));
    expect(req).toMatch(
      /^req id=\d+:\d+ proxy=in  src=127\.\d+\.\d+\.\d+:\d+ dst=127\.0\.\d+\.\d+:\d+ tls=\S* :method=GET :authority=\S+ :path=\/api\/(vote|list)/,
    );
    expect(rsp).toMatch(/^rsp id=\d+:\d+ proxy=in .* :status=(200|500|502) latency=\d+µs$/);
    expect(end).toMatch(/^end id=\d+:\d+ proxy=in .* duration=\d+µs response-length=\d+B$/);
  }, 60_000);

  it('filters by path and shows gRPC status and wide resources for the voting service', async () => {
    const query = parseTapQuery({
      resource: 'deploy/voting',
      namespace: 'emojivoto',
      path: '/tsmesh.demo.v1.VotingService/',
    });
    const lines = await tapLines(query, true, (l) => l.some((x) => x.startsWith('end ')));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines.filter((x) => x.startsWith('req ')))
      expect(l).toMatch(
        /:method=POST :authority=\S+ :path=\/tsmesh\.demo\.v1\.VotingService\/\w+ .*dst_res=deploy\/voting dst_ns=emojivoto/,
      );
    expect(
      lines.some((l) => /^end .* grpc-status=(OK|Unknown|Internal|Unavailable) duration=\d+µs/.test(l)),
      lines.join('\n'),
    ).toBe(true);
  }, 60_000);

  it("--to keeps the tapped pods' outbound requests to that resource", async () => {
    const query = parseTapQuery({
      resource: 'deploy/web',
      namespace: 'emojivoto',
      toResource: 'deploy/voting',
    });
    const lines = await tapLines(query, true, (l) => l.some((x) => x.startsWith('end ')));
    expect(
      lines.some((l) => l.startsWith('end ')),
      lines.join('\n'),
    ).toBe(true);
    for (const l of lines)
      expect(l).toMatch(
        /^\w+ id=\S+ proxy=out .* src_res=deploy\/web .*dst_res=deploy\/voting dst_ns=emojivoto/,
      );
  }, 60_000);

  it('prints linkerd-shaped JSON with -o json', async () => {
    // Up to three windows: a loaded machine may see no request in one.
    let out = '';
    for (let i = 0; i < 3 && !out.includes('\n}\n'); i++)
      ({ out } = await viz('tap', 'deploy/web', '--duration', '8s', '-o', 'json', '--method', 'GET'));
    const first = JSON.parse(out.slice(0, out.indexOf('\n}\n') + 2)) as {
      proxyDirection: string;
      destination: { metadata: Record<string, string> };
      requestInitEvent: { method: string; scheme: string; headers: unknown };
    };
    expect(first.proxyDirection).toBe('INBOUND');
    expect(first.destination.metadata).toMatchObject({ namespace: 'emojivoto', deployment: 'web' });
    expect(first.requestInitEvent).toMatchObject({ method: 'GET', scheme: 'HTTP' });
    expect(Array.isArray(first.requestInitEvent.headers)).toBe(true);
  }, 60_000);

  it('top prints one table of the most requested paths after its window when not on a terminal', async () => {
    const webRow = /\sweb-\S+\s+GET\s+\/api\/\S+\s+\d+\s+\S+\s+\S+\s+\S+\s+\d+\.\d\d%$/;
    let out = '';
    for (let i = 0; i < 3 && !out.split('\n').some((r) => webRow.test(r)); i++)
      ({ out } = await viz('top', 'deploy/web', '--window', '8s'));
    const [header, ...rows] = out.trim().split('\n');
    expect(header).toMatch(
      /^Source\s+Destination\s+Method\s+Path\s+Count\s+Best\s+Worst\s+Last\s+Success Rate$/,
    );
    expect(rows.length, out).toBeGreaterThan(0);
    // Inbound calls to web (from the vote bot) and web's outbound gRPC calls to emoji and voting.
    expect(
      rows.some((r) => webRow.test(r)),
      out,
    ).toBe(true);
    const counts = rows.map((r) => Number(/\s(\d+)\s+\S+\s+\S+\s+\S+\s+\S+%$/.exec(r)?.[1]));
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  }, 60_000);

  it('authz lists the authorization decisions per route of voting (the demo policy allows web)', async () => {
    // web calls voting on most of the vote bot's requests; on a loaded machine the first window
    // may see none yet, so look at up to three windows.
    const allowed =
      /^default\s+server\/voting-grpc\s+authorizationpolicy\/\S+\s+0\.0rps\s+\d+\.\d\d%\s+\d+\.\drps\s+\d+ms/;
    let out = '';
    for (let i = 0; i < 3 && !out.split('\n').some((r) => allowed.test(r)); i++)
      ({ out } = await runTsmesh([
        'viz',
        'authz',
        'deploy/voting',
        '-n',
        'emojivoto',
        '--state',
        state,
        '-t',
        '4s',
      ]));
    expect(out.split('\n')[0]).toMatch(
      /^ROUTE\s+SERVER\s+AUTHORIZATION\s+UNAUTHORIZED\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99$/,
    );
    expect(
      out.split('\n').some((r) => allowed.test(r)),
      out,
    ).toBe(true);
  }, 40_000);

  it('serves server-sent events to a caller with the token and refuses others', async () => {
    const token = 'a-test-token-of-this-state';
    const handler = createTapHttpHandler({
      service: localTapService(state),
      authenticate: bearerTokenAuthenticator(token),
      authorize: async () => ({ allowed: true, reason: 'local operator' }),
    });
    const server: Server = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    // GET only, as the tests above: web's own outbound gRPC calls to voting and emoji are tapped
    // too (proxy=out), and one of them may be the first event.
    const url = `http://127.0.0.1:${port}/api/tap?resource=deploy/web&namespace=emojivoto&method=GET`;
    try {
      const refused = await fetch(url, { headers: { authorization: 'Bearer wrong' } });
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: string }).error).toContain('credentials');
      const bad = await fetch(`http://127.0.0.1:${port}/api/tap?namespace=emojivoto`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(bad.status).toBe(400);
      const none = await fetch(
        `http://127.0.0.1:${port}/api/tap?resource=deploy/nothing&namespace=emojivoto`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      expect(none.status).toBe(404);
      await none.body?.cancel();
      const controller = new AbortController();
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = res.body!.getReader();
      let text = '';
      const deadline = Date.now() + 30_000;
      while (!/event: tap\ndata: .*\n\n/.test(text) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
      controller.abort();
      const data = /event: tap\ndata: (.*)\n\n/.exec(text)?.[1];
      expect(data, text).toBeDefined();
      expect(JSON.parse(data!)).toHaveProperty('proxyDirection', 'INBOUND');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    expect(parseTapQuery({ resource: 'deploy/web' }).maxRps).toBe(100);
  }, 60_000);
});
