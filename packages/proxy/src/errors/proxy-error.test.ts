import { describe, expect, it } from 'vitest';
import {
  classifyProxyError,
  parseProxyErrorHeader,
  PROXY_ERRORS,
  ProxyError,
  ProxyErrorCode,
  toProxyError,
} from './index.js';

describe('proxy error catalogue', () => {
  it('has a row for every code, with 4xx/5xx statuses', () => {
    for (const code of Object.values(ProxyErrorCode)) {
      const info = PROXY_ERRORS[code];
      expect(info, code).toBeDefined();
      expect(info.httpStatus).toBeGreaterThanOrEqual(400);
      expect(info.routeErrorLabel).toMatch(/^[A-Z_]+$/);
    }
  });

  it('follows Linkerd: fail-fast 503, timeouts 504, connection failures 502', () => {
    expect(new ProxyError(ProxyErrorCode.FailFast, 'x').httpStatus).toBe(503);
    expect(new ProxyError(ProxyErrorCode.LoadShed, 'x').httpStatus).toBe(503);
    expect(new ProxyError(ProxyErrorCode.ResponseTimeout, 'x').httpStatus).toBe(504);
    expect(new ProxyError(ProxyErrorCode.ConnectFailed, 'x').httpStatus).toBe(502);
  });

  it('round-trips the code through the l5d-proxy-error header', () => {
    const err = new ProxyError(ProxyErrorCode.BreakerOpen, 'all 3 endpoints ejected\n');
    expect(err.headerValue()).toBe('BREAKER_OPEN: all 3 endpoints ejected ');
    expect(parseProxyErrorHeader(err.headerValue())).toBe(ProxyErrorCode.BreakerOpen);
    expect(parseProxyErrorHeader('something else')).toBeUndefined();
  });

  it('classifies causes by walking the chain', () => {
    const inner = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    expect(classifyProxyError(new Error('wrapped', { cause: inner }))).toBe(ProxyErrorCode.ConnectFailed);
    expect(classifyProxyError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(
      ProxyErrorCode.EndpointReset,
    );
    expect(classifyProxyError(new Error('x', { cause: new ProxyError(ProxyErrorCode.LoadShed, 'q') }))).toBe(
      ProxyErrorCode.LoadShed,
    );
    expect(classifyProxyError('boom')).toBe(ProxyErrorCode.Unexpected);
    expect(toProxyError(inner).cause).toBe(inner);
  });
});
