import { describe, expect, it } from 'vitest';
import {
  canCarryOverHttp2,
  L5D_ORIG_PROTO,
  origProtoValue,
  parseOrigProto,
  upgradedRequestHeaders,
} from './orig-proto.js';

describe('l5d-orig-proto', () => {
  it('names the version, and absolute-form targets, as linkerd2-proxy does', () => {
    expect(L5D_ORIG_PROTO).toBe('l5d-orig-proto');
    expect(origProtoValue('1.1', '/a?b')).toBe('HTTP/1.1');
    expect(origProtoValue('1.0', '/')).toBe('HTTP/1.0');
    expect(origProtoValue('1.1', 'http://web:80/x')).toBe('HTTP/1.1; absolute-form');
    expect(origProtoValue('1.0', 'http://web/x')).toBe('HTTP/1.0; absolute-form');
    expect(origProtoValue('1.1', '*')).toBe('HTTP/1.1');
  });

  it('parses received values; anything else is not a downgrade', () => {
    expect(parseOrigProto('HTTP/1.1')).toEqual({ version: 'HTTP/1.1', absoluteForm: false });
    expect(parseOrigProto('HTTP/1.0; absolute-form')).toEqual({ version: 'HTTP/1.0', absoluteForm: true });
    expect(parseOrigProto(['HTTP/1.1; absolute-form'])).toEqual({ version: 'HTTP/1.1', absoluteForm: true });
    expect(parseOrigProto('HTTP/2')).toBeUndefined();
    expect(parseOrigProto(undefined)).toBeUndefined();
    expect(parseOrigProto('HTTP/1.1;absolute-form')?.absoluteForm).toBe(false);
  });

  it('never carries Upgrade or CONNECT requests over HTTP/2', () => {
    expect(canCarryOverHttp2('GET', undefined)).toBe(true);
    expect(canCarryOverHttp2('POST', undefined)).toBe(true);
    expect(canCarryOverHttp2('GET', 'websocket')).toBe(false);
    expect(canCarryOverHttp2('CONNECT', undefined)).toBe(false);
  });

  it('builds the HTTP/2 head: pseudo-headers, no connection-specific headers', () => {
    const h = upgradedRequestHeaders({
      method: 'POST',
      url: '/submit?x=1',
      httpVersion: '1.1',
      rawHeaders: [
        'Host',
        'web:8080',
        'Transfer-Encoding',
        'chunked',
        'Connection',
        'keep-alive, X-Hop',
        'X-Hop',
        'gone',
        'Keep-Alive',
        'timeout=5',
        'TE',
        'trailers',
        'Accept',
        'a',
        'accept',
        'b',
        'l5d-client-id',
        'spoofed',
        L5D_ORIG_PROTO,
        'HTTP/1.0',
      ],
      remove: ['l5d-client-id'],
      add: { 'x-added': '1' },
      defaultAuthority: '198.18.0.1:8080',
    });
    expect(h).toEqual({
      ':method': 'POST',
      ':scheme': 'http',
      ':path': '/submit?x=1',
      ':authority': 'web:8080',
      accept: ['a', 'b'],
      'x-added': '1',
      [L5D_ORIG_PROTO]: 'HTTP/1.1',
    });
  });

  it('takes :authority and :path from an absolute-form target, and a default without Host', () => {
    const abs = upgradedRequestHeaders({
      method: 'GET',
      url: 'http://web.ns.svc.cluster.local:8080/p?q',
      httpVersion: '1.1',
      rawHeaders: ['Host', 'ignored'],
      defaultAuthority: '198.18.0.1:8080',
    });
    expect(abs).toMatchObject({
      ':authority': 'web.ns.svc.cluster.local:8080',
      ':path': '/p?q',
      [L5D_ORIG_PROTO]: 'HTTP/1.1; absolute-form',
    });
    const http10 = upgradedRequestHeaders({
      method: 'GET',
      url: '/',
      httpVersion: '1.0',
      rawHeaders: [],
      defaultAuthority: '198.18.0.1:8080',
    });
    expect(http10).toMatchObject({ ':authority': '198.18.0.1:8080', [L5D_ORIG_PROTO]: 'HTTP/1.0' });
  });
});
