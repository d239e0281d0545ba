import { describe, expect, it } from 'vitest';
import {
  ConfigAnnotation,
  DEFAULT_OPAQUE_PORTS,
  DefaultPort,
  LATENCY_BUCKETS_MS,
  ProxyEnv,
  ProxyMetric,
  ProxyOwnerLabel,
} from './index.js';

describe('shared vocabulary', () => {
  it('uses Linkerd default ports', () => {
    expect(DefaultPort).toEqual({ Inbound: 4143, Outbound: 4140, Admin: 4191, Control: 4190 });
  });

  it('spells every config annotation under config.linkerd.io/', () => {
    for (const name of Object.values(ConfigAnnotation)) {
      expect(name).toMatch(/^config\.linkerd\.io\/[a-z0-9-]+$/);
    }
    expect(ConfigAnnotation.OpaquePorts).toBe('config.linkerd.io/opaque-ports');
  });

  it('spells every proxy variable as LINKERD2_PROXY_<UPPER_SNAKE>, each once', () => {
    const names = Object.values(ProxyEnv);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^LINKERD2_PROXY_[A-Z0-9_]+$/);
    expect(ProxyEnv.IdentityLocalName).toBe('LINKERD2_PROXY_IDENTITY_LOCAL_NAME');
  });

  it('keeps metric names Prometheus-valid and latency buckets increasing', () => {
    for (const name of Object.values(ProxyMetric)) expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
    const sorted = [...LATENCY_BUCKETS_MS].sort((a, b) => a - b);
    expect(LATENCY_BUCKETS_MS).toEqual(sorted);
    expect(LATENCY_BUCKETS_MS.at(-1)).toBe(50000);
  });

  it('freezes shared lists', () => {
    expect(Object.isFrozen(DEFAULT_OPAQUE_PORTS)).toBe(true);
    expect(ProxyOwnerLabel.Deployment).toBe('linkerd.io/proxy-deployment');
  });
});
