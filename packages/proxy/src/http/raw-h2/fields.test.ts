// Checks of received HTTP/2 field blocks (RFC 9113 §8.2, §8.3).
import { describe, expect, it } from 'vitest';
import { fieldValue, requestProblem, responseProblem, trailersProblem } from './fields.js';

const GET = [':method', 'GET', ':scheme', 'https', ':authority', 'a.example', ':path', '/x?y'];

describe('requestProblem', () => {
  it.each([
    ['a plain GET', GET],
    ['regular fields after the pseudo-fields', [...GET, 'accept', '*/*', 'te', 'trailers', 'x-a', '']],
    ['no :authority', [':method', 'GET', ':scheme', 'http', ':path', '/']],
    ['a tchar-rich name', [...GET, "x-!#$%&'*+-.^_`|~09", 'v']],
    ['CONNECT with :authority only', [':method', 'CONNECT', ':authority', 'a:443']],
    [
      'extended CONNECT (:protocol) with :scheme and :path',
      [':method', 'CONNECT', ':protocol', 'websocket', ':scheme', 'https', ':path', '/ws', ':authority', 'a'],
    ],
    ['OPTIONS *', [':method', 'OPTIONS', ':scheme', 'http', ':path', '*']],
    ['a value with tabs, spaces and obs-text', [...GET, 'x-v', ' a\tb \u00ff']],
  ])('accepts %s', (_name, fields) => {
    expect(requestProblem(fields)).toBeUndefined();
  });

  it.each([
    ['no :method', [':scheme', 'http', ':path', '/'], /without :method/],
    ['no :scheme', [':method', 'GET', ':path', '/'], /without :scheme/],
    ['no :path', [':method', 'GET', ':scheme', 'http'], /without :path/],
    ['an empty :path', [':method', 'GET', ':scheme', 'http', ':path', ''], /empty :path/],
    ['an empty list', [], /without :method/],
    ['two :method', [':method', 'GET', ':method', 'GET', ':scheme', 'http', ':path', '/'], /:method twice/],
    ['two :path', [...GET, ':path', '/'], /:path twice/],
    ['two :scheme', [':scheme', 'http', ...GET], /:scheme twice/],
    ['two :authority', [...GET.slice(0, 6), ':authority', 'b', ':path', '/'], /:authority twice/],
    [
      'an unknown pseudo-field',
      [...GET.slice(0, 2), ':foo', 'x', ...GET.slice(2)],
      /unknown pseudo-field :foo/,
    ],
    [':status in a request', [':status', '200', ...GET], /unknown pseudo-field :status/],
    ['a pseudo-field after a regular field', [...GET, 'x-a', '1', ':path', '/'], /after a regular field/],
    ['an upper-case name', [...GET, 'Accept', '*/*'], /"Accept"/],
    ['a space in a name', [...GET, 'x a', '1'], /character/],
    ['a colon in a regular name', [...GET, 'x:a', '1'], /character/],
    ['an empty name', [...GET, '', 'v'], /empty name/],
    ['a non-ASCII name', [...GET, 'x-\u00e9', 'v'], /character/],
    ['connection', [...GET, 'connection', 'keep-alive'], /connection-specific field connection/],
    ['keep-alive', [...GET, 'keep-alive', '5'], /connection-specific/],
    ['proxy-connection', [...GET, 'proxy-connection', 'x'], /connection-specific/],
    ['transfer-encoding', [...GET, 'transfer-encoding', 'chunked'], /connection-specific/],
    ['upgrade', [...GET, 'upgrade', 'h2c'], /connection-specific/],
    ['te other than trailers', [...GET, 'te', 'gzip'], /te may only be "trailers"/],
    ['a NUL in a value', [...GET, 'x-a', 'a\u0000b'], /NUL, CR or LF/],
    ['a CR in a value', [...GET, 'x-a', 'a\rb'], /NUL, CR or LF/],
    [
      'an LF in a pseudo-field value',
      [':method', 'GET', ':scheme', 'http', ':path', '/a\nb'],
      /NUL, CR or LF/,
    ],
    [
      'CONNECT with :path',
      [':method', 'CONNECT', ':authority', 'a:443', ':path', '/'],
      /CONNECT request with :scheme or :path/,
    ],
    [
      'CONNECT with :scheme',
      [':method', 'CONNECT', ':authority', 'a:443', ':scheme', 'https'],
      /CONNECT request with :scheme or :path/,
    ],
    ['CONNECT without :authority', [':method', 'CONNECT'], /CONNECT request without :authority/],
    [
      'extended CONNECT without :path',
      [':method', 'CONNECT', ':protocol', 'websocket', ':scheme', 'https', ':authority', 'a'],
      /without :path/,
    ],
  ])('refuses %s', (_name, fields, message) => {
    expect(requestProblem(fields)).toMatch(message);
  });
});

describe('responseProblem', () => {
  it.each([
    ['200', [':status', '200']],
    ['103 with fields', [':status', '103', 'link', '</a>; rel=preload']],
    ['599', [':status', '599', 'x-a', 'b']],
    [
      'a trailers-only gRPC response',
      [':status', '200', 'content-type', 'application/grpc', 'grpc-status', '5'],
    ],
  ])('accepts %s', (_name, fields) => {
    expect(responseProblem(fields)).toBeUndefined();
  });

  it.each([
    ['an empty list', [], /without :status/],
    ['no :status', ['content-type', 'x'], /without :status/],
    [':status not first', [':path', '/', ':status', '200'], /pseudo-field :path in a response/],
    ['a two-digit :status', [':status', '20'], /three-digit/],
    ['a four-digit :status', [':status', '2000'], /three-digit/],
    ['a :status starting with 0', [':status', '099'], /three-digit/],
    ['a non-numeric :status', [':status', '2x0'], /three-digit/],
    ['a second :status', [':status', '200', ':status', '204'], /pseudo-field :status after a regular field/],
    ['a request pseudo-field after :status', [':status', '200', ':path', '/'], /pseudo-field :path/],
    ['an upper-case name', [':status', '200', 'Server', 'x'], /"Server"/],
    ['transfer-encoding', [':status', '200', 'transfer-encoding', 'chunked'], /connection-specific/],
    ['a CR LF in a value', [':status', '200', 'location', '/a\r\nset-cookie: x'], /NUL, CR or LF/],
  ])('refuses %s', (_name, fields, message) => {
    expect(responseProblem(fields)).toMatch(message);
  });
});

describe('trailersProblem', () => {
  it('accepts regular fields, and no fields at all', () => {
    expect(trailersProblem(['grpc-status', '0', 'grpc-message', 'ok'])).toBeUndefined();
    expect(trailersProblem([])).toBeUndefined();
  });
  it.each([
    ['a pseudo-field', [':status', '200'], /pseudo-field :status .*trailers/],
    ['a pseudo-field after a regular one', ['grpc-status', '0', ':path', '/'], /pseudo-field :path/],
    ['an upper-case name', ['Grpc-Status', '0'], /"Grpc-Status"/],
    ['a connection-specific field', ['connection', 'close'], /connection-specific/],
    ['an LF in a value', ['grpc-message', 'a\nb'], /NUL, CR or LF/],
  ])('refuses %s', (_name, fields, message) => {
    expect(trailersProblem(fields)).toMatch(message);
  });
});

describe('fieldValue', () => {
  it('finds the first value of a name, and only among names', () => {
    const fields = ['a', '1', 'b', 'a', 'a', '2'];
    expect(fieldValue(fields, 'a')).toBe('1');
    expect(fieldValue(fields, 'b')).toBe('a');
    expect(fieldValue(fields, '1')).toBeUndefined();
    expect(fieldValue([], 'a')).toBeUndefined();
  });
});
