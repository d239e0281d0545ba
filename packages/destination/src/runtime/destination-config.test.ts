import { afterEach, describe, expect, test, vi } from 'vitest';
import { MeshError } from '@tsmesh/core';
import { parseDestinationConfig } from './destination-config.js';
import { runDestination } from './run-destination.js';

describe('tsmesh-destination flags', () => {
  afterEach(() => vi.restoreAllMocks());

  test("Linkerd's flags and defaults", () => {
    const config = parseDestinationConfig([
      '-addr=:8087',
      '--admin-addr',
      '127.0.0.1:9999',
      '-controller-namespace=mesh',
      '-enable-h2-upgrade=false',
      '-default-opaque-ports=25,3306-3307',
      '-enable-endpoint-slices',
    ]);
    expect(config).toMatchObject({
      mode: 'destination',
      host: '0.0.0.0',
      port: 8087,
      adminHost: '127.0.0.1',
      adminPort: 9999,
      controllerNamespace: 'mesh',
      clusterDomain: 'cluster.local',
      trustDomain: 'cluster.local',
      enableH2Upgrade: false,
      enableIpv6: false,
      defaultOpaquePorts: [25, 3306, 3307],
    });
    expect(parseDestinationConfig(['sp-validator'])).toMatchObject({
      mode: 'sp-validator',
      port: 8443,
      adminPort: 9997,
    });
    expect(parseDestinationConfig(['-help'])).toHaveProperty('help');
  });

  test.each([
    [['-nope'], '-nope'],
    [['-addr=8086'], '-addr'],
    [['-enable-ipv6=maybe'], '-enable-ipv6'],
    [['-default-opaque-ports=25,x!'], '-default-opaque-ports'],
    [['-log-level=loud'], '-log-level'],
    [['-cluster-domain'], '-cluster-domain'],
  ])('%j is refused naming %s', (argv, flag) => {
    try {
      parseDestinationConfig(argv);
      expect.unreachable();
    } catch (err) {
      expect(MeshError.is(err) && err.describe()).toContain(flag);
    }
  });

  test('the binary exits 2 on a bad flag, naming it', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    expect(await runDestination(['-addr', 'nowhere'])).toBe(2);
    expect(lines.join('')).toContain('-addr');
  });
});
