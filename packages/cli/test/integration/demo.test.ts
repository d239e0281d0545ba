// `tsmesh demo --duration 20s` end to end, as a person runs it: the built CLI, the control plane,
// four workloads each behind its own proxy process. While it runs, the proxies' own /metrics must
// show mutual TLS between them (tls="true" with the peer's identity) and the failing vote as
// gRPC failures; the app answers through web's proxy; afterwards no process it started is left.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '../../src/demo/index.js';

const cli = new URL('../../bin/tsmesh.js', import.meta.url).pathname;
const built = existsSync(new URL('../../dist/main.js', import.meta.url));
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

/** The demo's own logs, for a failure message (the state directory is removed afterwards). */
function logsOf(state: string): string {
  const dir = join(state, 'logs');
  if (!existsSync(dir)) return '(no logs)';
  return readdirSync(dir)
    .map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const sum = (samples: readonly Sample[], name: string, labels: Record<string, string>) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe.skipIf(!built)('tsmesh demo (built CLI; `npm run build` first)', () => {
  const stateRoot = mkdtempSync(join(tmpdir(), 'tsmesh-demo-test-'));
  const state = join(stateRoot, 'timed');
  afterAll(() => rmSync(stateRoot, { recursive: true, force: true }));

  it('runs web, emoji, voting and vote-bot behind mTLS proxies, shows the failing vote, and leaves nothing running', async () => {
    const child = spawn(
      process.execPath,
      [cli, 'demo', '--duration', '20s', '--state', state, '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    // Wait for the app line, then let the bot vote for a while.
    const deadline = Date.now() + 90_000;
    while (!/The app: http:\/\/127\.0\.0\.1:\d+\//.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`the demo did not come up:\n${output}\n${logsOf(state)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const appUrl = /The app: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1]!;
    const admin = Object.fromEntries(
      [...output.matchAll(/^\s+(\S+)\s+pod (127\.\d+\.\d+\.\d+)\s+proxy admin (\S+)$/gm)].map((m) => [
        m[1]!,
        m[3]!,
      ]),
    );
    expect(Object.keys(admin).sort()).toEqual(['emoji', 'vote-bot', 'voting', 'web']);
    const started = descendants(child.pid!);
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
    expect(output).toMatch(/\[\d+s\] voting inbound success=\d+\.\d% /); // plain lines when not a TTY
    expect(output).toMatch(/stopped; nothing left running/);
    await new Promise((r) => setTimeout(r, 500));
    expect(started.filter(alive)).toEqual([]);
  }, 180_000);

  it('stops everything on Ctrl-C (SIGINT to the whole process group, as a terminal sends it)', async () => {
    const state = join(stateRoot, 'interrupted');
    const child = spawn(process.execPath, [cli, 'demo', '--port', '0', '--state', state], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, like a foreground job
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 90_000;
    while (!output.includes('The app: ')) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`the demo did not come up:\n${output}\n${logsOf(state)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const started = descendants(child.pid!);
    expect(started.length).toBeGreaterThanOrEqual(8);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(output).toMatch(/stopped; nothing left running/);
    await new Promise((r) => setTimeout(r, 500));
    expect(started.filter(alive)).toEqual([]);
  }, 180_000);
});
