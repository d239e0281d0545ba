import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAddressClaims, PodRegistry, validateRegistration } from './pod-registry.js';

describe('pod registry', () => {
  const dirs: string[] = [];
  const claimsIn = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsmesh-claims-'));
    dirs.push(dir);
    return { dir, claims: createAddressClaims(dir) };
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('hands out distinct loopback addresses, skips claimed ones and releases on removal', async () => {
    const { dir, claims } = claimsIn();
    // Another live process (our parent) holds 127.0.1.1; a dead one held 127.0.1.2.
    writeFileSync(join(dir, '127.0.1.1'), String(process.ppid));
    writeFileSync(join(dir, '127.0.1.2'), '999999999');
    const registry = new PodRegistry({ claims, probe: async () => true });
    const reg = { workload: 'web', namespace: 'shop', serviceAccount: 'web', ports: [{ port: 8080 }] };
    const a = await registry.register(reg);
    const b = await registry.register(reg);
    const ipOf = (pod: typeof a) => (pod.status as { podIP: string }).podIP;
    expect([ipOf(a), ipOf(b)]).toEqual(['127.0.1.2', '127.0.1.3']);
    expect(readFileSync(join(dir, '127.0.1.2'), 'utf8')).toBe(String(process.pid));
    expect(a.metadata!.labels).toMatchObject({ app: 'web', 'linkerd.io/control-plane-ns': 'linkerd' });
    registry.remove('shop', a.metadata!.name!);
    expect(ipOf(await registry.register({ ...reg, podIP: '127.0.1.2' }))).toBe('127.0.1.2');
    registry.close();
  });

  it('validates registrations field by field', () => {
    expect(() =>
      validateRegistration({ workload: 'Web', namespace: 'a', serviceAccount: 'b', ports: [] }),
    ).toThrow(/invalid workload/);
    expect(() =>
      validateRegistration({
        workload: 'web',
        namespace: 'a',
        serviceAccount: 'b',
        ports: [{ port: 70000 }],
      }),
    ).toThrow(/ports\[0\]\.port/);
    expect(() =>
      validateRegistration({
        workload: 'web',
        namespace: 'a',
        serviceAccount: 'b',
        ports: [],
        podIP: '10.0.0.1',
      }),
    ).toThrow(/podIP/);
  });
});
