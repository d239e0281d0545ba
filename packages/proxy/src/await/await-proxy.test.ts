import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { awaitProxy, waitForProxyReady } from './index.js';

// A stand-in for the proxy's admin server: not ready for the first polls, then ready; records
// /shutdown calls.
function adminServer(readyAfterPolls: number) {
  let polls = 0;
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    if (req.url === '/ready') {
      polls += 1;
      res.writeHead(polls > readyAfterPolls ? 200 : 503).end();
    } else if (req.url === '/shutdown' && req.method === 'POST') {
      res.writeHead(200).end('shutdown\n');
    } else res.writeHead(404).end();
  });
  return new Promise<{ server: Server; port: number; calls: string[] }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, calls }),
    ),
  );
}

describe('tsmesh-proxy await', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('runs the command only once the proxy is ready, then shuts the proxy down', async () => {
    const admin = await adminServer(2);
    server = admin.server;
    const code = await awaitProxy({
      command: process.execPath,
      args: ['-e', 'process.exit(3)'],
      adminPort: admin.port,
      pollIntervalMs: 10,
    });
    expect(code).toBe(3);
    expect(admin.calls.filter((c) => c === 'GET /ready')).toHaveLength(3);
    expect(admin.calls.at(-1)).toBe('POST /shutdown');
  });

  it('gives up with a clear error when the proxy never becomes ready', async () => {
    const admin = await adminServer(Number.POSITIVE_INFINITY);
    server = admin.server;
    await expect(
      waitForProxyReady({ adminPort: admin.port, timeoutMs: 100, pollIntervalMs: 10 }),
    ).rejects.toThrow(/not ready within 100ms \(HTTP 503\)/);
  });

  it('reports a command that cannot start as exit code 127', async () => {
    const admin = await adminServer(0);
    server = admin.server;
    const lines: string[] = [];
    const code = await awaitProxy({
      command: '/nonexistent/app',
      args: [],
      adminPort: admin.port,
      log: (l) => lines.push(l),
    });
    expect(code).toBe(127);
    expect(lines.join('\n')).toMatch(/cannot start \/nonexistent\/app/);
  });
});
