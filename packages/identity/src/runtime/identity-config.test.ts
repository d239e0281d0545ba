import { describe, expect, it } from 'vitest';
import { parseDuration, parseIdentityConfig } from './identity-config.js';

describe('parseIdentityConfig', () => {
  it('has Linkerd-like defaults', () => {
    const config = parseIdentityConfig([], {});
    expect(config).toMatchObject({
      grpcHost: '127.0.0.1',
      grpcPort: 8080,
      adminPort: 9990,
      trustDomain: 'cluster.local',
      controlPlaneNamespace: 'linkerd',
      issuanceLifetimeMs: 86_400_000,
      clockSkewMs: 20_000,
      tokenCacheSize: 10_000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes flags over environment', () => {
    const config = parseIdentityConfig(['--addr', '127.0.0.1:0', '--trust-domain', 'example.org'], {
      TSMESH_IDENTITY_ADDR: '127.0.0.1:9',
      TSMESH_IDENTITY_TRUST_DOMAIN: 'env.org',
      TSMESH_IDENTITY_ISSUER_DIR: '/issuer',
    });
    expect(config).toMatchObject({ grpcPort: 0, trustDomain: 'example.org', issuerDir: '/issuer' });
    expect(parseIdentityConfig(['--help'], {})).toBe('help');
  });

  it('says what is wrong', () => {
    expect(() => parseIdentityConfig(['--addr', 'nonsense'], {})).toThrow(/not HOST:PORT/);
    expect(() => parseIdentityConfig(['--bogus'], {})).toThrow(/bogus/);
    expect(() => parseIdentityConfig(['--log-level', 'loud'], {})).toThrow(/log level/);
    expect(() => parseIdentityConfig([], { TSMESH_IDENTITY_ISSUANCE_LIFETIME: '1d' })).toThrow(/duration/);
  });
});

describe('parseDuration', () => {
  it('reads Go-style durations', () => {
    expect(parseDuration('24h', 'x')).toBe(86_400_000);
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(() => parseDuration('', 'x')).toThrow();
    expect(() => parseDuration('0s', 'x')).toThrow();
  });

  it('reads the TLS switch and server name from flags or environment', () => {
    expect(parseIdentityConfig([], {})).toMatchObject({ tls: false, tlsServerName: undefined });
    expect(parseIdentityConfig(['--tls', '--tls-server-name', 'id.example'], {})).toMatchObject({
      tls: true,
      tlsServerName: 'id.example',
    });
    expect(parseIdentityConfig([], { TSMESH_IDENTITY_TLS: 'true' })).toMatchObject({ tls: true });
  });
});
