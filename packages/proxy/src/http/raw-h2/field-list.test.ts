import { describe, expect, it } from 'vitest';
import { fieldsOfHeaders, forwardedFields, headersOfFields, plainHeadersOfFields } from './field-list.js';

describe('field lists and header objects', () => {
  it('makes the header object node:http2 would: cookie joined with "; ", set-cookie a list, others ", "', () => {
    const h = headersOfFields([
      ':method',
      'GET',
      'cookie',
      'a=1',
      'cookie',
      'b=2',
      'set-cookie',
      'x',
      'accept',
      'text/plain',
      'accept',
      'text/html',
      '__proto__',
      'p',
    ]);
    expect(h.cookie).toBe('a=1; b=2');
    expect(h['set-cookie']).toEqual(['x']);
    expect(h.accept).toBe('text/plain, text/html');
    expect(Object.getPrototypeOf(h)).toBeNull();
    expect(Object.hasOwn(h, '__proto__')).toBe(true);
  });

  it('forwards without connection-specific fields, keeps te: trailers, drops and adds as asked', () => {
    const out = forwardedFields(
      [
        ':method',
        'POST',
        ':path',
        '/x',
        'connection',
        'x-hop',
        'x-hop',
        '1',
        'keep-alive',
        '5',
        'te',
        'trailers',
        'te',
        'gzip',
        'x-drop',
        '1',
        'x-keep',
        '1',
        'x-add',
        'old',
        'l5d-orig-proto',
        'HTTP/1.1',
      ],
      ['x-drop'],
      { 'x-add': 'new' },
      'l5d-orig-proto',
    );
    expect(out).toEqual([':method', 'POST', ':path', '/x', 'te', 'trailers', 'x-keep', '1', 'x-add', 'new']);
  });

  it('hands back the list itself when nothing is dropped or added (no copy per head)', () => {
    const fields = [':status', '200', 'content-type', 'text/plain', 'te', 'trailers'];
    expect(forwardedFields(fields)).toBe(fields);
    expect(forwardedFields(fields, undefined, { 'x-add': '1' })).not.toBe(fields);
  });

  it('gives the stacks header objects without pseudo-fields or hop-by-hop ones, repeats as lists', () => {
    const h = plainHeadersOfFields(
      [
        ':status',
        '200',
        'x-a',
        '1',
        'x-a',
        '2',
        'x-a',
        '3',
        'transfer-encoding',
        'chunked',
        'l5d-orig-proto',
        'HTTP/1.1',
      ],
      'l5d-orig-proto',
    );
    expect({ ...h }).toEqual({ 'x-a': ['1', '2', '3'] });
  });

  it('lists a header object after a head, lists and numbers included', () => {
    expect(fieldsOfHeaders({ a: '1', b: ['2', '3'], c: 4, d: undefined }, [':status', '200'])).toEqual([
      ':status',
      '200',
      'a',
      '1',
      'b',
      '2',
      'b',
      '3',
      'c',
      '4',
    ]);
  });
});
