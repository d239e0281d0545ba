import { describe, expect, it } from 'vitest';
import { headersFromRaw, stripHopByHop } from './headers.js';

describe('stripHopByHop', () => {
  it('drops hop-by-hop headers and those Connection names; pseudo-headers only when asked', () => {
    const h = {
      ':status': '200',
      connection: 'keep-alive, x-private',
      'keep-alive': 'timeout=5',
      'x-private': 'p',
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
      'content-length': 3 as unknown as string,
    };
    expect(stripHopByHop(h)).toEqual({
      ':status': '200',
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
      'content-length': '3',
    });
    expect(stripHopByHop(h, true)).toEqual({
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
      'content-length': '3',
    });
  });
});

describe('headersFromRaw', () => {
  it('lower-cases names, gathers repeated headers, drops hop-by-hop and Connection-named ones', () => {
    const raw = [
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Connection',
      'keep-alive, X-Private',
      'Transfer-Encoding',
      'chunked',
      'X-Private',
      'p',
      'set-cookie',
      'b=2',
      'Set-Cookie',
      'c=3',
    ].map((s) => Buffer.from(s, 'latin1'));
    expect(headersFromRaw(raw)).toEqual({
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2', 'c=3'],
    });
  });

  it('passes header bytes through unchanged (latin1), and takes strings too', () => {
    const value = Buffer.from([0x63, 0xe9, 0xff]);
    const out = headersFromRaw([Buffer.from('X-Bytes'), value, 'x-str', 'v']);
    expect(Buffer.from(out['x-bytes'] as string, 'latin1')).toEqual(value);
    expect(out['x-str']).toBe('v');
  });
});

describe('a header field named __proto__', () => {
  it('is a member of the header object, never its prototype', () => {
    // headersFromRaw read Object.prototype as an earlier value and threw (cur.push is not a function).
    const h = headersFromRaw(['__proto__', 'a', 'Content-Type', 'text/plain', '__PROTO__', 'b']);
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(h, '__proto__')?.value).toEqual(['a', 'b']);
    expect(Object.keys(h)).toEqual(['__proto__', 'content-type']);
    const once = headersFromRaw(['__proto__', 'x']);
    expect(Object.getOwnPropertyDescriptor(once, '__proto__')?.value).toBe('x');
    // node's header objects (no prototype) may hold one, repeated as a list.
    const fromNode = Object.assign(Object.create(null) as Record<string, string | string[]>, {
      ['__proto__']: ['p', 'q'],
      'x-a': '1',
    });
    const copied = stripHopByHop(fromNode);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(copied, '__proto__')?.value).toEqual(['p', 'q']);
    expect(Object.keys(copied)).toEqual(['__proto__', 'x-a']);
  });
});
