// `tsmesh demo --duration 20s` end to end, as a person runs it: the built CLI, the control plane,
// four workloads each behind its own proxy process. While it runs, the proxies' own /metrics must
// show mutual TLS between them (tls="true" with the peer's identity) and the failing vote as
// gRPC failures; the app answers through web's proxy; afterwards no process it started is left.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '../../src/demo/index.js';
import { built, startDemo, sum } from './demo-process.js';

const id = (sa: string) => `${sa}.emojivoto.serviceaccount.identity.linkerd.cluster.local`;

/** Every live descendant of a process (from /proc). */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) {
      if (parent !== pid) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/**
 * The descendants once there are at least `n` of them: the demo reports up when its proxies are
 * ready, and an app process may still be starting then (on a loaded machine, 7 of 8 were seen).
 */
async function descendantsOnceStarted(root: number, n: number, withinMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  let found = descendants(root);
  while (found.length < n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    found = descendants(root);
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!built)('tsmesh demo (built CLI; `npm run build` first)', () => {
  const stateRoot = mkdtempSync(join(tmpdir(), 'tsmesh-demo-test-'));
  const state = join(stateRoot, 'timed');
  afterAll(() => rmSync(stateRoot, { recursive: true, force: true }));

  it('runs web, emoji, voting and vote-bot behind mTLS proxies, shows the failing vote, and leaves nothing running', async () => {
    const demo = startDemo(state, ['--duration', '20s']);
    const { child, exited } = demo;
    const { appUrl, admin } = await demo.up();
    expect(Object.keys(admin).sort()).toEqual(['emoji', 'vote-bot', 'voting', 'web']);
    const started = await descendantsOnceStarted(child.pid!, 8);
    expect(started.length).toBeGreaterThanOrEqual(8); // four `tsmesh run` processes and their apps

    const page = await fetch(appUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Vote for your favourite emoji');
    const list = (await (await fetch(new URL('/api/list', appUrl))).json()) as { shortcode: string }[];
    expect(list.some((e) => e.shortcode === ':doughnut:')).toBe(true);
    expect((await fetch(new URL('/api/vote?choice=%3Adoughnut%3A', appUrl))).status).toBe(500);

    // Scrape every proxy each second while the demo runs, until the bot's failing votes show up
    // at voting (every tenth vote), keeping the last complete scrape.
    const scrape = async (name: string) => parsePrometheusText(await (await fetch(admin[name]!)).text());
    let last: Sample[][] | undefined;
    while (child.exitCode === null) {
      const round = await Promise.all(['web', 'voting', 'emoji', 'vote-bot'].map(scrape)).catch(
        () => undefined,
      );
      if (round) last = round;
      const failures = last ? sum(last[1]!, 'response_total', { direction: 'inbound', grpc_status: '2' }) : 0;
      if (failures >= 2) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(last, 'no complete scrape of the four proxies').toBeDefined();
    const [web, voting, emoji, bot] = last!;

    // vote-bot → web, web → emoji and web → voting: mutual TLS, the receiving proxy naming the
    // sender's identity; nothing reaches emoji or voting in plaintext.
    expect(
      sum(web!, 'request_total', { direction: 'inbound', tls: 'true', client_id: id('vote-bot') }),
    ).toBeGreaterThan(0);
    for (const peer of [voting!, emoji!]) {
      expect(
        sum(peer, 'request_total', { direction: 'inbound', tls: 'true', client_id: id('web') }),
      ).toBeGreaterThan(0);
      expect(sum(peer, 'request_total', { direction: 'inbound' })).toBe(
        sum(peer, 'request_total', { direction: 'inbound', tls: 'true' }),
      );
    }
    // The callers' proxies routed by Service name (Destination) or, before discovery, by address.
    const outbound = (samples: readonly Sample[], service: string) =>
      sum(samples, 'outbound_http_route_request_statuses_total', { parent_name: service }) +
      sum(samples, 'outbound_grpc_route_request_statuses_total', { parent_name: service }) +
      sum(samples, 'request_total', { direction: 'outbound', tls: 'true' });
    expect(outbound(bot!, 'web-svc')).toBeGreaterThan(0);
    expect(outbound(web!, 'voting-svc')).toBeGreaterThan(0);

    // The vote for :doughnut: fails: gRPC UNKNOWN at voting, a 500 at web, failures in both.
    expect(
      sum(voting!, 'response_total', { direction: 'inbound', classification: 'failure', grpc_status: '2' }),
    ).toBeGreaterThan(0);
    expect(
      sum(voting!, 'response_total', { direction: 'inbound', classification: 'success' }),
    ).toBeGreaterThan(0);
    expect(
      sum(web!, 'response_total', { direction: 'inbound', classification: 'failure', status_code: '500' }),
    ).toBeGreaterThan(0);

    expect(await exited).toBe(0);
    expect(demo.output()).toMatch(/\[\d+s\] voting inbound success=\d+\.\d% /); // plain lines when not a TTY
    expect(demo.output()).toMatch(/stopped; nothing left running/);
    await new Promise((r) => setTimeout(r, 500));
    expect(started.filter(alive)).toEqual([]);
  }, 180_000);

  it('stops everything on Ctrl-C (SIGINT to the whole process group, as a terminal sends it)', async () => {
    const demo = startDemo(join(stateRoot, 'interrupted'), [], true); // own process group
    const { child, exited } = demo;
    await demo.up();
    const started = await descendantsOnceStarted(child.pid!, 8);
    expect(started.length).toBeGreaterThanOrEqual(8);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(demo.output()).toMatch(/stopped; nothing left running/);
    await new Promise((r) => setTimeout(r, 500));
    expect(started.filter(alive)).toEqual([]);
  }, 180_000);
});
