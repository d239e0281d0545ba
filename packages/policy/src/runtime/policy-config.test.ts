import { describe, expect, it } from 'vitest';
import { parsePolicyConfig } from './policy-config.js';
import { runPolicy } from './run-policy.js';

describe('tsmesh-policy flags', () => {
  it('has Linkerd defaults', () => {
    expect(parsePolicyConfig([])).toMatchObject({
      grpcHost: '0.0.0.0',
      grpcPort: 8090,
      adminPort: 9990,
      admissionPort: 9443,
      defaultPolicy: 'all-unauthenticated',
      clusterDomain: 'cluster.local',
      controlPlaneNamespace: 'linkerd',
      defaultOpaquePorts: [25, 587, 3306, 4444, 5432, 6379, 9300, 11211],
      allowL5dRequestHeaders: false,
    });
    expect(parsePolicyConfig(['--allow-l5d-request-headers'])).toMatchObject({
      allowL5dRequestHeaders: true,
    });
  });

  it.each([
    [['--grpc-addr', 'nope'], '--grpc-addr'],
    [['--cluster-networks', '10.0.0.0/99'], '--cluster-networks'],
    [['--default-policy', 'allow'], '--default-policy'],
    [['--default-opaque-ports', '70000'], '--default-opaque-ports'],
    [['--probe-networks', 'x'], '--probe-networks'],
  ])('refuses %j naming the flag', (argv, flag) => {
    expect(() => parsePolicyConfig(argv)).toThrow(expect.objectContaining({ where: flag }));
  });

  it('the binary exits 2 on a bad flag', async () => {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (
      written.push(String(chunk)),
      true
    )) as typeof process.stderr.write;
    try {
      expect(await runPolicy(['--default-policy', 'allow'], {})).toBe(2);
      expect(await runPolicy(['--frobnicate'], {})).toBe(2);
    } finally {
      process.stderr.write = original;
    }
    expect(written.join('')).toContain('--default-policy: "allow" is not a default policy');
  });
});
