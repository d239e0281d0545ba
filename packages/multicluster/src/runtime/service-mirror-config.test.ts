import { describe, expect, it } from 'vitest';
import { parseServiceMirrorConfig } from './service-mirror-config.js';

describe('parseServiceMirrorConfig', () => {
  it("takes Linkerd's service-mirror arguments, Go-style", () => {
    expect(
      parseServiceMirrorConfig([
        '-log-level=debug',
        '-log-format=plain',
        '-event-requeue-limit=3',
        '-namespace=mc',
        '-enable-pprof=false',
        'east',
      ]),
    ).toEqual({
      linkName: 'east',
      namespace: 'mc',
      kubeconfig: undefined,
      logLevel: 'debug',
      adminHost: '0.0.0.0',
      adminPort: 9999,
      probeGateway: true,
      repairPeriodMs: 60_000,
    });
  });

  it('names the bad flag', () => {
    expect(() => parseServiceMirrorConfig([])).toThrow(/exactly one argument/);
    expect(() => parseServiceMirrorConfig(['--log-level', 'loud', 'east'])).toThrow(/unknown level/);
    expect(() => parseServiceMirrorConfig(['--admin-addr', 'x', 'east'])).toThrow(/HOST:PORT/);
    expect(() => parseServiceMirrorConfig(['--bogus', 'east'])).toThrow(/bogus/);
    expect(parseServiceMirrorConfig(['-help'])).toHaveProperty('help');
  });
});
