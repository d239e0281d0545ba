import { describe, expect, it } from 'vitest';
import { headersObject } from './request-view.js';

describe('headersObject', () => {
  it('joins repeated headers as node:http does', () => {
    const h = headersObject([
      'Accept',
      'text/html',
      'accept',
      'application/json',
      'Cookie',
      'a=1',
      'cookie',
      'b=2',
      'Set-Cookie',
      'x=1',
      'set-cookie',
      'y=2',
      'Host',
      'first.example',
      'host',
      'second.example',
    ]);
    expect(h.accept).toBe('text/html, application/json');
    // Cookie pairs are joined with "; " (RFC 6265 §5.4), not ", ".
    expect(h.cookie).toBe('a=1; b=2');
    expect(h['set-cookie']).toEqual(['x=1', 'y=2']);
    // Headers that may appear once keep their first value.
    expect(h.host).toBe('first.example');
  });
});

describe('headersObject and a field named __proto__', () => {
  it('keeps it as an own member, repeats joined', () => {
    const h = headersObject(['__proto__', '1', 'Host', 'h', '__proto__', '2']);
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(h, '__proto__')?.value).toBe('1, 2');
    expect(h.host).toBe('h');
  });
});
