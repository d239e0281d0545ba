import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayProbe } from './gateway-probe.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function gateway(status: () => number): Promise<number> {
  server = createServer((req, res) => {
    res.writeHead(req.url === '/ready' ? status() : 404).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('GatewayProbe', () => {
  it("reports health and latency with Linkerd's metric names; dead after the failure threshold", async () => {
    let status = 200;
    const port = await gateway(() => status);
    const registry = new Registry();
    const changes: boolean[] = [];
    const probe = new GatewayProbe({
      clusterName: 'east',
      address: () => '127.0.0.1',
      spec: () => ({ path: '/ready', port, periodMs: 1000, timeoutMs: 2000, failureThreshold: 2 }),
      registry,
      onChange: (alive) => changes.push(alive),
    });
    expect(await probe.probe()).toBe(true);
    let text = await registry.metrics();
    expect(text).toContain('gateway_alive{target_cluster_name="east"} 1');
    expect(text).toContain('gateway_probe_latency_ms_count{target_cluster_name="east"} 1');
    expect(text).toContain('gateway_probes{target_cluster_name="east",probe_successful="true"} 1');

    status = 503;
    expect(await probe.probe()).toBe(true); // one failure is below the threshold
    expect(await probe.probe()).toBe(false);
    text = await registry.metrics();
    expect(text).toContain('gateway_alive{target_cluster_name="east"} 0');
    expect(text).toContain('gateway_probes{target_cluster_name="east",probe_successful="false"} 1');
    status = 200;
    expect(await probe.probe()).toBe(true);
    expect(changes).toEqual([false, true]);
  });

  it('counts a refused connection and an unresolved address as failures', async () => {
    const port = await gateway(() => 200);
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    let address: string | undefined = '127.0.0.1';
    const probe = new GatewayProbe({
      clusterName: 'east',
      address: () => address,
      spec: () => ({ path: '/ready', port, periodMs: 1000, timeoutMs: 2000, failureThreshold: 1 }),
      registry: new Registry(),
    });
    expect(await probe.probe()).toBe(false);
    address = undefined;
    expect(await probe.probe()).toBe(false);
  });
});

describe('GatewayProbe.run', () => {
  it('probes every period, not at all without a gateway, and drops its series when stopped', async () => {
    const port = await gateway(() => 200);
    const registry = new Registry();
    let enabled = false;
    let probes = 0;
    const probe = new GatewayProbe({
      clusterName: 'east',
      address: () => (probes++, '127.0.0.1'),
      spec: () => ({ path: '/ready', port, periodMs: 20, timeoutMs: 2000, failureThreshold: 1 }),
      enabled: () => enabled,
      registry,
    });
    const stop = new AbortController();
    const running = probe.run(stop.signal);
    const until = async (what: string, test: () => Promise<boolean>) => {
      const deadline = Date.now() + 10_000;
      while (!(await test())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await until('gateway_enabled 0', async () =>
      (await registry.metrics()).includes('gateway_enabled{target_cluster_name="east"} 0'),
    );
    expect(probes).toBe(0);
    enabled = true;
    await until('a probe', async () =>
      (await registry.metrics()).includes('gateway_alive{target_cluster_name="east"} 1'),
    );
    stop.abort();
    await running;
    expect(await registry.metrics()).not.toContain('gateway_alive{');
  });
});
