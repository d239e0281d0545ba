// Transparent mode's pure parts: pod addresses of the netns subnet, names of namespaces and veths,
// the pod's hosts file. The real thing (namespaces, iptables, tshark) is
// test/integration/local-netns.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isNetnsPodAddress, NETNS_HOST_ADDRESS, podNetworkNames } from './netns-network.js';
import { createAddressClaims, PodRegistry, validateRegistration } from './pod-registry.js';
import { launcherNodeFlags, podHostsFile } from './transparent-runner.js';

describe('transparent mode', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('gives netns workloads addresses of the transparent-mode subnet, never probing the host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsmesh-claims-'));
    dirs.push(dir);
    const registry = new PodRegistry({
      claims: createAddressClaims(dir),
      probe: async () => {
        throw new Error('a netns address must not be probed on the host');
      },
    });
    const reg = {
      workload: 'web',
      namespace: 'shop',
      serviceAccount: 'web',
      ports: [{ port: 8080 }],
      network: 'netns' as const,
    };
    const a = await registry.register(reg);
    const b = await registry.register(reg);
    const ipOf = (pod: typeof a) => (pod.status as { podIP: string; hostIP: string }).podIP;
    expect(ipOf(a)).not.toBe(ipOf(b));
    for (const ip of [ipOf(a), ipOf(b)]) expect(isNetnsPodAddress(ip)).toBe(true);
    expect((a.status as { hostIP: string }).hostIP).toBe(NETNS_HOST_ADDRESS);
    // Asking again for the same address (a restarted control plane) gets it once it is free.
    registry.remove('shop', a.metadata!.name!);
    const again = await registry.register({ ...reg, podIP: ipOf(a) });
    expect(ipOf(again)).toBe(ipOf(a));
    registry.close();
  });

  it('validates the network and the pod address against it', () => {
    const base = { workload: 'web', namespace: 'shop', serviceAccount: 'web', ports: [] };
    expect(() => validateRegistration({ ...base, network: 'bridge' })).toThrow(/invalid network/);
    expect(() => validateRegistration({ ...base, network: 'netns', podIP: '127.0.1.1' })).toThrow(
      /invalid podIP/,
    );
    expect(() => validateRegistration({ ...base, podIP: NETNS_HOST_ADDRESS })).toThrow(/invalid podIP/);
    expect(isNetnsPodAddress(NETNS_HOST_ADDRESS)).toBe(false);
    expect(validateRegistration({ ...base, network: 'netns' }).network).toBe('netns');
  });

  it('names namespaces and veths within the kernel limit (15 characters)', () => {
    const names = podNetworkNames('a-very-long-workload-name-12345');
    expect(names.netns).toBe('tsmesh-p-a-very-long-workload-name-12345');
    expect(names.hubVeth.length).toBeLessThanOrEqual(15);
    expect(names.podVeth.length).toBeLessThanOrEqual(15);
    expect(podNetworkNames('other').hubVeth).not.toBe(names.hubVeth);
  });

  it("writes the pod's hosts file: Services with a clusterIP by their DNS names", () => {
    const svc = (name: string, namespace: string, clusterIP?: string) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: clusterIP ? { clusterIP } : {},
    });
    const text = podHostsFile('web-abcde', '198.19.250.7', 'shop', [
      svc('api', 'shop', '198.18.10.1'),
      svc('db', 'data', '198.18.10.2'),
      svc('headless', 'shop', 'None'),
      svc('noip', 'shop'),
    ]);
    expect(text.split('\n')).toEqual([
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost',
      '198.19.250.7\tweb-abcde',
      '198.18.10.1\tapi.shop.svc.cluster.local api.shop.svc api.shop api',
      '198.18.10.2\tdb.data.svc.cluster.local db.data.svc db.data',
      '',
    ]);
  });

  it("starts the proxy with the node flags of its launcher's shebang", () => {
    const proxyDir = dirname(createRequire(import.meta.url).resolve('@tsmesh/proxy/package.json'));
    const flags = launcherNodeFlags(join(proxyDir, 'bin', 'tsmesh-proxy.js'));
    expect(flags).toEqual(['--max-semi-space-size=2', '--heap-growing-percent=25', '--v8-pool-size=1']);
    for (const f of flags) expect(f).toMatch(/^--[a-z0-9-]+=\S+$/);
    const dir = mkdtempSync(join(tmpdir(), 'tsmesh-launcher-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'plain.js'), '// no shebang --not-a-flag\n');
    expect(launcherNodeFlags(join(dir, 'plain.js'))).toEqual([]);
  });
});
