// The web dashboard in a real browser: the built `tsmesh demo` (which starts the dashboard over its
// own proxies and prints its URL) and Debian's chromium driven by playwright-core (no browser
// download). The overview shows the demo's workloads with non-zero requests a second and the
// failing voting service below 100 %; clicking web opens its page with routes, edges secured by
// mutual TLS and charts; the namespace page draws the topology. Screenshots go to the test's
// temporary directory (kept with TSMESH_KEEP_SCREENSHOTS=1). `tsmesh viz dashboard --state` serves
// the same API from its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { built, cli, startDemo, type DemoProcess } from './demo-process.js';
import { get, until } from './viz-support.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!CHROMIUM) console.warn('viz-dashboard browser test skipped: no chromium (apt-get install chromium)');
if (!built)
  console.warn('viz-dashboard browser test skipped: the CLI is not built (nx run @tsmesh/cli:build)');

interface Row {
  name: string;
  rps: number;
  successRate?: number;
}

/** The first line of a child's stdout matching `re`. */
function lineOf(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`no line ${re} within ${timeoutMs} ms:\n${text}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const m = re.exec(text);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${text}`));
    });
  });
}

const percentOf = (text: string) => Number(/([\d.]+)%/.exec(text)?.[1] ?? NaN);

describe.skipIf(!built || !CHROMIUM)('the dashboard in a real chromium over tsmesh demo', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsmesh-viz-dashboard-'));
  const state = join(root, 'demo');
  const shots = join(root, 'screenshots');
  let demo: DemoProcess;
  let dashboardUrl = '';
  let browser: Browser | undefined;
  let page: Page;
  let command: ChildProcess | undefined;

  beforeAll(async () => {
    mkdirSync(shots);
    // Long enough for every test on a loaded machine; afterAll stops it sooner.
    demo = startDemo(state, ['--duration', '400s']);
    await demo.up();
    dashboardUrl = /The dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(demo.output())?.[1] ?? '';
    expect(dashboardUrl, `the demo printed no dashboard URL:\n${demo.output()}`).not.toBe('');
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      headless: true,
      // Root in CI: chromium's sandbox needs an unprivileged user; /dev/shm may be small.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
      timeout: 60_000,
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (command && command.exitCode === null) {
      const exited = new Promise((r) => command!.once('exit', r));
      command.kill('SIGTERM');
      await exited;
    }
    await demo?.stop();
    if (process.env.TSMESH_KEEP_SCREENSHOTS === '1') console.log(`dashboard screenshots kept in ${shots}`);
    else rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('shows every workload with traffic, and voting failing below 100 %', async () => {
    await page.goto(dashboardUrl);
    // Polled through locators: the page's CSP allows no evaluated strings, and this project's
    // types have no DOM for page functions.
    await until('web, emoji and voting with requests a second above 0', 60_000, async () => {
      for (const name of ['web', 'emoji', 'voting']) {
        const cell = page.locator(`tr[data-row="${name}"] td[data-rps]`).last();
        if (!(Number(await cell.getAttribute('data-rps', { timeout: 1000 })) > 0)) return undefined;
      }
      return true;
    });
    // The :doughnut: vote (every 10th) fails at voting, so a window with traffic is below 100 %.
    const votingRate = await until('voting below 100 % on the page', 60_000, async () => {
      const text = await page.locator('tr[data-row="voting"] .sr').last().textContent();
      const p = percentOf(text ?? '');
      return p < 100 ? p : undefined;
    });
    expect(votingRate).toBeGreaterThan(0);
    expect(await page.locator('tr[data-row="vote-bot"]').count()).toBeGreaterThan(0);
    expect(await page.locator('nav.sidebar').textContent()).toContain('emojivoto');
    await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
    expect(statSync(join(shots, 'overview.png')).size).toBeGreaterThan(10_000);
  }, 150_000);

  it('opens a workload: routes, edges secured by mTLS, charts', async () => {
    await page.locator('tr[data-row="web"] a', { hasText: 'web' }).last().click();
    await page.waitForURL(/\/namespaces\/emojivoto\/deployments\/web$/, { timeout: 10_000 });
    await page.waitForSelector('#routes tr[data-row]', { timeout: 30_000 });
    const vote = page.locator('#edges tr[data-edge="web>voting"]');
    await vote.waitFor({ timeout: 30_000 });
    expect(await vote.textContent()).toContain('mTLS');
    expect(await vote.textContent()).toContain('voting.emojivoto');
    await page.locator('#edges tr[data-edge="vote-bot>web"]').waitFor({ timeout: 30_000 });
    // The charts draw once the server recorded two points.
    await until('a chart line through two points', 30_000, async () => {
      for (const path of await page.locator('.chart path').all())
        if ((await path.getAttribute('d'))?.includes('L')) return true;
      return undefined;
    });
    await page.screenshot({ path: join(shots, 'workload-web.png'), fullPage: true });
  }, 120_000);

  it('streams live top and tap of the workload', async () => {
    await page.getByRole('tab', { name: 'Top' }).click();
    await page.locator('.controls button', { hasText: 'Start' }).click();
    const top = page.locator('table[data-live="top"] tbody tr');
    await top.first().waitFor({ timeout: 60_000 });
    // A path column: `/api/…` of web's HTTP or `/tsmesh.demo.v1.…/…` of its gRPC calls.
    expect(await top.first().textContent()).toMatch(/(GET|POST)\//);
    await page.locator('.controls button', { hasText: 'Stop' }).click();
    await page.getByRole('tab', { name: 'Tap' }).click();
    await page.locator('.controls button', { hasText: 'Start' }).click();
    // A finished request: its status came back (the vote bot's calls reach web every few hundred ms).
    await page
      .locator('table[data-live="tap"] tbody tr td.num', { hasText: /^\d{3}$/ })
      .first()
      .waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(shots, 'workload-web-tap.png'), fullPage: true });
    await page.locator('.controls button', { hasText: 'Stop' }).click();
  }, 150_000);

  it('draws the topology of the namespace with its secured calls', async () => {
    await page.locator('nav.sidebar a', { hasText: 'emojivoto' }).click();
    await page.waitForURL(/\/namespaces\/emojivoto$/, { timeout: 10_000 });
    for (const edge of ['vote-bot>web', 'web>emoji', 'web>voting'])
      await page
        .locator(`svg.topology g[data-edge="${edge}"] path.edge-secured`)
        .waitFor({ state: 'attached', timeout: 30_000 });
    expect(await page.locator('svg.topology g[data-node]').count()).toBe(4);
    // The failing workload's box shows its success rate below 100 %.
    await until('voting below 100 % in the graph', 60_000, async () => {
      const text = await page.locator('svg.topology g[data-node="voting"] .node-stat').textContent();
      return percentOf(text ?? '') < 100 ? true : undefined;
    });
    await page.screenshot({ path: join(shots, 'namespace-topology.png'), fullPage: true });
  }, 120_000);

  it('`tsmesh viz dashboard --state` serves the same API on 127.0.0.1 and stops on SIGTERM', async () => {
    command = spawn(
      process.execPath,
      [cli, 'viz', 'dashboard', '--state', state, '--port', '0', '--show', 'url'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const url = await lineOf(command, /^(http:\/\/127\.0\.0\.1:\d+\/)$/m, 30_000);
    const rows = await until('deployments with traffic from the command', 60_000, async () => {
      const body = (await (await fetch(`${url}api/stat?resource=deployment&namespace=emojivoto`)).json()) as {
        rows: Row[];
      };
      return body.rows.some((r) => r.name === 'web' && r.rps > 0) ? body.rows : undefined;
    });
    expect(rows.map((r) => r.name).sort()).toEqual(['emoji', 'vote-bot', 'voting', 'web']);
    const html = await (await fetch(`${url}namespaces/emojivoto`)).text();
    expect(html).toContain('<div id="root"></div>');
    const { port } = new URL(url);
    expect((await get(`${url}api/meta`, `attacker.example:${port}`)).status).toBe(403);
    const exited = new Promise<number | null>((r) => command!.once('exit', (code) => r(code)));
    command.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});
