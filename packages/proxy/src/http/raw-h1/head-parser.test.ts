import { describe, expect, it } from 'vitest';
import { HeadErrorCode, type HeadError } from './head-error.js';
import {
  parseRequestHead,
  parseResponseHead,
  type HeadIncomplete,
  type RequestHead,
  type ResponseHead,
} from './head-parser.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

function request(text: string): RequestHead {
  const r = parseRequestHead(bytes(text));
  if (r.kind !== 'request') throw new Error(`expected a request head, got ${JSON.stringify(r)}`);
  return r;
}
function response(text: string): ResponseHead {
  const r = parseResponseHead(bytes(text));
  if (r.kind !== 'response') throw new Error(`expected a response head, got ${JSON.stringify(r)}`);
  return r;
}
function requestError(text: string): HeadError {
  const r = parseRequestHead(bytes(text));
  if (r.kind !== 'error') throw new Error(`expected an error for ${JSON.stringify(text)}, got ${r.kind}`);
  return r;
}

describe('parseRequestHead: valid heads', () => {
  it('parses method, target, version and headers in order and case, values trimmed of OWS', () => {
    const text =
      'POST /a/b?c=d HTTP/1.1\r\nHost: example.com:80\r\nX-Mixed-Case:  v 1 \t\r\nx-empty:\r\n\r\nBODY';
    const head = request(text);
    expect(head).toMatchObject({ method: 'POST', target: '/a/b?c=d', version: '1.1' });
    expect(head.headers).toEqual(['Host', 'example.com:80', 'X-Mixed-Case', 'v 1', 'x-empty', '']);
    expect(head.fields.host).toBe('example.com:80');
    expect(head.consumed).toBe(text.length - 'BODY'.length);
  });

  it('gathers the framing fields, keeps HTAB and obs-text in values', () => {
    const head = request(
      'OPTIONS * HTTP/1.1\r\nhost: h\r\nContent-Length: 3\r\nCONNECTION: close\r\nTransfer-Encoding: chunked\r\nconnection: x-a\r\nX-Latin: caf\xe9\tbar\r\n\r\n',
    );
    expect(head.target).toBe('*');
    expect(head.fields).toEqual({
      host: 'h',
      contentLength: ['3'],
      transferEncoding: ['chunked'],
      connection: ['close', 'x-a'],
    });
    expect(head.headers.at(-1)).toBe('caf\xe9\tbar');
  });

  it.each([
    [
      'absolute-form',
      'GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n',
      'http://example.com/x',
    ],
    [
      'authority-form',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      'example.com:443',
    ],
    ['IPv6 CONNECT target', 'CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n', '[::1]:8443'],
    ['HTTP/1.0 without Host', 'GET / HTTP/1.0\r\n\r\n', '/'],
    ['IPv6 host', 'GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n', '/'],
    ['empty Host', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', '/'],
    ['extension method', 'MKWIDGET /w HTTP/1.1\r\nHost: h\r\n\r\n', '/w'],
  ])('accepts %s', (_name, text, target) => {
    expect(request(text).target).toBe(target);
  });

  it('skips empty lines before the request line and counts them as consumed', () => {
    const head = request('\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(head.consumed).toBe(4 + 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'.length);
  });

  it('is incremental: incomplete until CRLFCRLF, resuming where it stopped, same result as whole', () => {
    const text = '\r\nGET /x HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\nnext';
    const whole = request(text);
    let resume: HeadIncomplete | undefined;
    for (let n = 0; n < text.length; n++) {
      const r = parseRequestHead(bytes(text.slice(0, n)), { resume });
      if (n < whole.consumed) {
        expect(r.kind, `at ${n}`).toBe('incomplete');
        if (r.kind === 'incomplete') resume = r;
      } else {
        expect(r).toEqual(whole);
      }
    }
  });
});

describe('parseRequestHead: refusals say what, where and the status', () => {
  it.each<[string, string, HeadErrorCode, number]>([
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n', HeadErrorCode.ObsFold, 400],
    ['obs-fold with HTAB', 'GET / HTTP/1.1\r\nHost: h\r\n\tX: a\r\n\r\n', HeadErrorCode.ObsFold, 400],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n', HeadErrorCode.BareCr, 400],
    ['bare CR after the request line', 'GET / HTTP/1.1\rHost: h\r\n\r\n', HeadErrorCode.BareCr, 400],
    ['bare LF line end', 'GET / HTTP/1.1\r\nHost: h\nX: a\r\n\r\n', HeadErrorCode.BareLf, 400],
    ['LF-only head', 'GET / HTTP/1.1\nHost: h\n\n', HeadErrorCode.BareLf, 400],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', HeadErrorCode.SpaceBeforeColon, 400],
    ['HTAB before colon', 'GET / HTTP/1.1\r\nHost: h\r\nX\t: a\r\n\r\n', HeadErrorCode.SpaceBeforeColon, 400],
    ['space inside a name', 'GET / HTTP/1.1\r\nHost: h\r\nX Y: a\r\n\r\n', HeadErrorCode.BadHeaderName, 400],
    ['separator in a name', 'GET / HTTP/1.1\r\nHost: h\r\nX(y): a\r\n\r\n', HeadErrorCode.BadHeaderName, 400],
    ['obs-text in a name', 'GET / HTTP/1.1\r\nHost: h\r\nX\xe9: a\r\n\r\n', HeadErrorCode.BadHeaderName, 400],
    ['empty name', 'GET / HTTP/1.1\r\nHost: h\r\n: a\r\n\r\n', HeadErrorCode.BadHeaderName, 400],
    ['no colon', 'GET / HTTP/1.1\r\nHost: h\r\nJustAName\r\n\r\n', HeadErrorCode.MissingColon, 400],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n', HeadErrorCode.BadHeaderValue, 400],
    ['ESC in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[0m\r\n\r\n', HeadErrorCode.BadHeaderValue, 400],
    ['DEL in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n', HeadErrorCode.BadHeaderValue, 400],
    ['separator in the method', 'GE(T / HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadMethod, 400],
    ['control in the target', 'GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadTarget, 400],
    ['DEL in the target', 'GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadTarget, 400],
    ['obs-text in the target', 'GET /caf\xe9 HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadTarget, 400],
    ['authority-form for GET', 'GET h.example:443 HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadTarget, 400],
    ['origin-form for CONNECT', 'CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadTarget, 400],
    ['CONNECT without a port', 'CONNECT h.example HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadTarget, 400],
    ['asterisk-form for GET', 'GET * HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadTarget, 400],
    [
      'userinfo in absolute-form',
      'GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n',
      HeadErrorCode.BadTarget,
      400,
    ],
    [
      'quote in an absolute-form host',
      'GET http://"h/ HTTP/1.1\r\nHost: h\r\n\r\n',
      HeadErrorCode.BadTarget,
      400,
    ],
    ['relative target', 'GET a/b HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadTarget, 400],
    ['two spaces after the method', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadRequestLine, 400],
    ['two spaces after the target', 'GET /  HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadRequestLine, 400],
    ['leading space', ' GET / HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadRequestLine, 400],
    ['trailing space', 'GET / HTTP/1.1 \r\nHost: h\r\n\r\n', HeadErrorCode.BadRequestLine, 400],
    ['HTAB as separator', 'GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadRequestLine, 400],
    ['no version', 'GET /\r\nHost: h\r\n\r\n', HeadErrorCode.BadRequestLine, 400],
    ['lower-case version', 'GET / http/1.1\r\nHost: h\r\n\r\n', HeadErrorCode.BadVersion, 400],
    ['long version', 'GET / HTTP/1.10\r\nHost: h\r\n\r\n', HeadErrorCode.BadVersion, 400],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: h\r\n\r\n', HeadErrorCode.UnsupportedVersion, 505],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', HeadErrorCode.UnsupportedVersion, 505],
    ['HTTP/0.9', 'GET / HTTP/0.9\r\n\r\n', HeadErrorCode.UnsupportedVersion, 505],
    ['missing Host', 'GET / HTTP/1.1\r\nX: a\r\n\r\n', HeadErrorCode.MissingHost, 400],
    ['two Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n', HeadErrorCode.DuplicateHost, 400],
    ['Host with a path', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', HeadErrorCode.BadHost, 400],
    ['Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', HeadErrorCode.BadHost, 400],
  ])('%s', (_name, text, code, status) => {
    const error = requestError(text);
    expect(error).toMatchObject({ kind: 'error', code, status });
    expect(error.message).toMatch(/line \d+, byte \d+|byte \d+/);
  });

  it('points at the offending line and byte', () => {
    const text = 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x00\r\n\r\n';
    const error = requestError(text);
    expect(error.line).toBe(3);
    expect(error.offset).toBe(text.indexOf('\x00'));
    expect(error.message).toContain('line 3, byte 29');
    expect(error.message).toContain('header "X"');
  });

  it('refuses a bare LF before the head is complete, without waiting for CRLFCRLF', () => {
    expect(parseRequestHead(bytes('GET / HTTP/1.1\nHost'))).toMatchObject({ code: HeadErrorCode.BareLf });
    expect(parseRequestHead(bytes('GET / HTTP/1.1\rX'))).toMatchObject({ code: HeadErrorCode.BareCr });
    expect(parseRequestHead(bytes('GET / HTTP/1.1\r'))).toMatchObject({ kind: 'incomplete' });
  });

  it('refuses a bad line as soon as it is complete, before the head ends, resumed or not', () => {
    const early = 'GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\nMore: ';
    expect(parseRequestHead(bytes(early))).toMatchObject({ code: HeadErrorCode.BadHeaderName, line: 3 });
    const first = parseRequestHead(bytes(early.slice(0, 30)));
    expect(first).toMatchObject({ kind: 'incomplete', checkedLines: 2, checkedTo: 25 });
    const resumed = parseRequestHead(bytes(early), { resume: first as HeadIncomplete });
    expect(resumed).toMatchObject({ code: HeadErrorCode.BadHeaderName, line: 3, offset: 28 });
    expect(parseRequestHead(bytes('GET / HTTP/1.1 x\r\nHo'))).toMatchObject({
      code: HeadErrorCode.BadRequestLine,
    });
    expect(parseResponseHead(bytes('HTTP/1.1 2000\r\n'))).toMatchObject({
      code: HeadErrorCode.BadStatusLine,
    });
    const many = `GET / HTTP/1.1\r\n${'X: 1\r\n'.repeat(5)}`;
    expect(parseRequestHead(bytes(many), { maxHeaderLines: 4 })).toMatchObject({
      code: HeadErrorCode.TooManyHeaders,
    });
  });

  it('answers 431 to a head over the limit, complete or not, and to too many header lines', () => {
    const big = `GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(200)}`;
    expect(parseRequestHead(bytes(big), { maxHeadBytes: 100 })).toMatchObject({
      code: HeadErrorCode.HeadTooLarge,
      status: 431,
    });
    expect(parseRequestHead(bytes(`${big}\r\n\r\n`), { maxHeadBytes: 100 })).toMatchObject({ status: 431 });
    expect(parseRequestHead(bytes(`${big}\r\n\r\n`), { maxHeadBytes: 1000 }).kind).toBe('request');
    const many = `GET / HTTP/1.1\r\nHost: h\r\n${'X: 1\r\n'.repeat(3)}\r\n`;
    expect(parseRequestHead(bytes(many), { maxHeaderLines: 3 })).toMatchObject({
      code: HeadErrorCode.TooManyHeaders,
      status: 431,
    });
    expect(parseRequestHead(bytes(many), { maxHeaderLines: 4 }).kind).toBe('request');
  });
});

describe('parseResponseHead', () => {
  it('parses version, status, reason and headers', () => {
    const head = response('HTTP/1.0 404 Not  Found\r\nContent-Length: 0\r\nX-A: b \r\n\r\n');
    expect(head).toMatchObject({ version: '1.0', status: 404, reason: 'Not  Found' });
    expect(head.headers).toEqual(['Content-Length', '0', 'X-A', 'b']);
    expect(head.fields.contentLength).toEqual(['0']);
  });

  it('accepts an empty reason with or without its space, and obs-text in it', () => {
    expect(response('HTTP/1.1 204\r\n\r\n')).toMatchObject({ status: 204, reason: '' });
    expect(response('HTTP/1.1 200 \r\n\r\n')).toMatchObject({ status: 200, reason: '' });
    expect(response('HTTP/1.1 200 d\xe9j\xe0 vu\r\n\r\n').reason).toBe('d\xe9j\xe0 vu');
  });

  it.each<[string, string, HeadErrorCode]>([
    ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', HeadErrorCode.BadStatusLine],
    ['no space after status', 'HTTP/1.1 200OK\r\n\r\n', HeadErrorCode.BadStatusLine],
    ['status below 100', 'HTTP/1.1 099 Odd\r\n\r\n', HeadErrorCode.BadStatusLine],
    ['control in the reason', 'HTTP/1.1 200 O\x01K\r\n\r\n', HeadErrorCode.BadStatusLine],
    ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n', HeadErrorCode.UnsupportedVersion],
    ['not HTTP', 'ICY 200 OK\r\n\r\n', HeadErrorCode.BadStatusLine],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n  b\r\n\r\n', HeadErrorCode.ObsFold],
    ['space before colon', 'HTTP/1.1 200 OK\r\nX : a\r\n\r\n', HeadErrorCode.SpaceBeforeColon],
    ['bare LF', 'HTTP/1.1 200 OK\nX: a\r\n\r\n', HeadErrorCode.BareLf],
  ])('refuses %s with 502', (_name, text, code) => {
    expect(parseResponseHead(bytes(text))).toMatchObject({ kind: 'error', code, status: 502 });
  });

  it('does not skip leading empty lines and gives 502 to an oversized head', () => {
    expect(parseResponseHead(bytes('\r\nHTTP/1.1 200 OK\r\n\r\n')).kind).toBe('error');
    expect(
      parseResponseHead(bytes(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}`), { maxHeadBytes: 50 }),
    ).toMatchObject({ code: HeadErrorCode.HeadTooLarge, status: 502 });
  });
});
