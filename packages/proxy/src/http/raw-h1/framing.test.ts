import { describe, expect, it } from 'vitest';
import { requestFraming, responseFraming, type BodyFraming, type MessageFraming } from './framing.js';
import { HeadErrorCode, type HeadError } from './head-error.js';
import { parseRequestHead, parseResponseHead } from './head-parser.js';

function requestOf(version: string, headers: string[]): MessageFraming | HeadError {
  const text = `POST /p HTTP/${version}\r\nHost: h\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
  const head = parseRequestHead(Buffer.from(text, 'latin1'));
  if (head.kind !== 'request') throw new Error(`head refused: ${JSON.stringify(head)}`);
  return requestFraming(head);
}
function responseOf(status: string, headers: string[], method = 'GET', version = '1.1') {
  const text = `HTTP/${version} ${status}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
  const head = parseResponseHead(Buffer.from(text, 'latin1'));
  if (head.kind !== 'response') throw new Error(`head refused: ${JSON.stringify(head)}`);
  return responseFraming(head, method);
}
const body = (r: MessageFraming | HeadError): BodyFraming | string =>
  r.kind === 'framing' ? r.body : r.code;

describe('requestFraming', () => {
  it.each<[string, string[], BodyFraming | string]>([
    ['no framing headers: no body', [], { kind: 'none' }],
    ['Content-Length', ['Content-Length: 10'], { kind: 'length', length: 10 }],
    ['Content-Length 0: no body', ['content-length: 0'], { kind: 'none' }],
    ['largest safe length', [`Content-Length: ${2 ** 53 - 1}`], { kind: 'length', length: 2 ** 53 - 1 }],
    ['equal repeated lines', ['Content-Length: 5', 'Content-Length: 5'], { kind: 'length', length: 5 }],
    ['equal comma list', ['Content-Length: 5, 5,5'], { kind: 'length', length: 5 }],
    ['conflicting lines', ['Content-Length: 5', 'Content-Length: 6'], HeadErrorCode.ConflictingContentLength],
    ['conflicting list', ['Content-Length: 5, 6'], HeadErrorCode.ConflictingContentLength],
    ['negative', ['Content-Length: -1'], HeadErrorCode.BadContentLength],
    ['plus sign', ['Content-Length: +5'], HeadErrorCode.BadContentLength],
    ['hex', ['Content-Length: 0x5'], HeadErrorCode.BadContentLength],
    ['exponent', ['Content-Length: 1e3'], HeadErrorCode.BadContentLength],
    ['empty', ['Content-Length:'], HeadErrorCode.BadContentLength],
    ['empty list element', ['Content-Length: 5,'], HeadErrorCode.BadContentLength],
    ['2^53', [`Content-Length: ${2 ** 53}`], HeadErrorCode.BadContentLength],
    ['17 digits', ['Content-Length: 00000000000000005'], HeadErrorCode.BadContentLength],
    ['chunked', ['Transfer-Encoding: chunked'], { kind: 'chunked' }],
    ['Chunked in any case', ['Transfer-Encoding: ChUnKeD'], { kind: 'chunked' }],
    ['gzip then chunked', ['Transfer-Encoding: gzip, chunked'], { kind: 'chunked' }],
    [
      'codings over two lines',
      ['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'],
      { kind: 'chunked' },
    ],
    ['chunked not last', ['Transfer-Encoding: chunked, gzip'], HeadErrorCode.BadTransferEncoding],
    ['no chunked', ['Transfer-Encoding: gzip'], HeadErrorCode.BadTransferEncoding],
    ['chunked twice', ['Transfer-Encoding: chunked, chunked'], HeadErrorCode.BadTransferEncoding],
    [
      'chunked twice over lines',
      ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
      HeadErrorCode.BadTransferEncoding,
    ],
    ['empty element', ['Transfer-Encoding: , chunked'], HeadErrorCode.BadTransferEncoding],
    ['malformed element', ['Transfer-Encoding: "chunked"'], HeadErrorCode.BadTransferEncoding],
    ['unknown coding', ['Transfer-Encoding: br, chunked'], HeadErrorCode.UnsupportedTransferCoding],
    ['identity', ['Transfer-Encoding: identity'], HeadErrorCode.UnsupportedTransferCoding],
    [
      'TE and CL',
      ['Transfer-Encoding: chunked', 'Content-Length: 5'],
      HeadErrorCode.TransferEncodingWithContentLength,
    ],
    [
      'CL and TE',
      ['Content-Length: 5', 'Transfer-Encoding: chunked'],
      HeadErrorCode.TransferEncodingWithContentLength,
    ],
  ])('%s', (_name, headers, expected) => {
    expect(body(requestOf('1.1', headers))).toEqual(expected);
  });

  it('answers the status the RFC asks for', () => {
    expect(requestOf('1.1', ['Content-Length: x'])).toMatchObject({ status: 400 });
    expect(requestOf('1.1', ['Transfer-Encoding: gzip'])).toMatchObject({ status: 400 });
    expect(requestOf('1.1', ['Transfer-Encoding: br, chunked'])).toMatchObject({ status: 501 });
    const both = requestOf('1.1', ['Transfer-Encoding: chunked', 'Content-Length: 5']);
    expect(both).toMatchObject({ status: 400 });
    expect(both.kind === 'error' && both.message).toContain('Transfer-Encoding and Content-Length');
  });

  it('refuses Transfer-Encoding in an HTTP/1.0 request', () => {
    expect(requestOf('1.0', ['Transfer-Encoding: chunked'])).toMatchObject({
      code: HeadErrorCode.TransferEncodingHttp10,
      status: 400,
    });
    expect(body(requestOf('1.0', ['Content-Length: 2']))).toEqual({ kind: 'length', length: 2 });
  });

  it('flags repeated equal Content-Length values so the engine forwards one', () => {
    expect(requestOf('1.1', ['Content-Length: 5', 'Content-Length: 5'])).toMatchObject({
      contentLengthRepeated: true,
    });
    expect(requestOf('1.1', ['Content-Length: 5,5'])).toMatchObject({ contentLengthRepeated: true });
    expect(requestOf('1.1', ['Content-Length: 5'])).toMatchObject({ contentLengthRepeated: false });
  });

  it('keeps HTTP/1.1 connections unless close; never an HTTP/1.0 client; lists the Connection options', () => {
    expect(requestOf('1.1', [])).toMatchObject({ keepAlive: true, connectionOptions: [] });
    expect(requestOf('1.1', ['Connection: Close'])).toMatchObject({ keepAlive: false });
    expect(
      requestOf('1.1', ['Connection: X-Foo, ,keep-alive', 'connection: close, x-foo, TE']),
    ).toMatchObject({
      keepAlive: false,
      connectionOptions: ['x-foo', 'keep-alive', 'te'],
    });
    expect(requestOf('1.0', [])).toMatchObject({ keepAlive: false });
    expect(requestOf('1.0', ['Connection: keep-alive'])).toMatchObject({
      keepAlive: false,
      connectionOptions: ['keep-alive'],
    });
  });
});

describe('responseFraming', () => {
  it.each<[string, string, string[], string, BodyFraming | string]>([
    ['HEAD with a length', '200 OK', ['Content-Length: 10'], 'HEAD', { kind: 'none' }],
    ['HEAD with chunked', '200 OK', ['Transfer-Encoding: chunked'], 'HEAD', { kind: 'none' }],
    ['204 with a length', '204 No Content', ['Content-Length: 10'], 'GET', { kind: 'none' }],
    ['304 with a length', '304 Not Modified', ['Content-Length: 10'], 'GET', { kind: 'none' }],
    ['100 Continue', '100 Continue', [], 'POST', { kind: 'none' }],
    ['103 Early Hints', '103 Early Hints', ['Link: </a>'], 'GET', { kind: 'none' }],
    ['101 Switching Protocols', '101 Switching Protocols', ['Upgrade: websocket'], 'GET', { kind: 'tunnel' }],
    ['200 to CONNECT', '200 OK', ['Content-Length: 5'], 'CONNECT', { kind: 'tunnel' }],
    ['407 to CONNECT', '407 Auth', ['Content-Length: 5'], 'CONNECT', { kind: 'length', length: 5 }],
    ['chunked', '200 OK', ['Transfer-Encoding: chunked'], 'GET', { kind: 'chunked' }],
    ['unknown coding then chunked', '200 OK', ['Transfer-Encoding: br, chunked'], 'GET', { kind: 'chunked' }],
    ['coding without chunked', '200 OK', ['Transfer-Encoding: gzip'], 'GET', { kind: 'until-close' }],
    ['length', '200 OK', ['Content-Length: 7'], 'POST', { kind: 'length', length: 7 }],
    ['length 0', '404 Not Found', ['Content-Length: 0'], 'GET', { kind: 'none' }],
    ['no framing headers', '200 OK', [], 'GET', { kind: 'until-close' }],
    [
      'TE and CL',
      '200 OK',
      ['Transfer-Encoding: chunked', 'Content-Length: 3'],
      'GET',
      HeadErrorCode.TransferEncodingWithContentLength,
    ],
    ['bad length', '200 OK', ['Content-Length: 3x'], 'GET', HeadErrorCode.BadContentLength],
    [
      'conflicting lengths',
      '200 OK',
      ['Content-Length: 3', 'Content-Length: 4'],
      'GET',
      HeadErrorCode.ConflictingContentLength,
    ],
    [
      'chunked not last',
      '200 OK',
      ['Transfer-Encoding: chunked, gzip'],
      'GET',
      HeadErrorCode.BadTransferEncoding,
    ],
  ])('%s', (_name, status, headers, method, expected) => {
    expect(body(responseOf(status, headers, method))).toEqual(expected);
  });

  it('answers 502 to every framing error of a response', () => {
    for (const headers of [['Content-Length: -1'], ['Transfer-Encoding: chunked', 'Content-Length: 1']])
      expect(responseOf('200 OK', headers)).toMatchObject({ kind: 'error', status: 502 });
    expect(responseOf('200 OK', ['Transfer-Encoding: chunked'], 'GET', '1.0')).toMatchObject({
      code: HeadErrorCode.TransferEncodingHttp10,
      status: 502,
    });
  });

  it('decides persistence: close, HTTP/1.0 keep-alive, read-until-close and tunnels end the connection', () => {
    expect(responseOf('200 OK', ['Content-Length: 1'])).toMatchObject({ keepAlive: true });
    expect(responseOf('200 OK', ['Content-Length: 1', 'Connection: close'])).toMatchObject({
      keepAlive: false,
    });
    expect(responseOf('200 OK', ['Content-Length: 1'], 'GET', '1.0')).toMatchObject({ keepAlive: false });
    expect(responseOf('200 OK', ['Content-Length: 1', 'Connection: Keep-Alive'], 'GET', '1.0')).toMatchObject(
      {
        keepAlive: true,
        connectionOptions: ['keep-alive'],
      },
    );
    expect(responseOf('200 OK', [])).toMatchObject({ keepAlive: false });
    expect(responseOf('101 Switching Protocols', ['Connection: upgrade'])).toMatchObject({
      keepAlive: false,
      connectionOptions: ['upgrade'],
    });
  });

  it('marks 1xx other than 101 as informational: another head follows', () => {
    expect(responseOf('100 Continue', [])).toMatchObject({ informational: true, keepAlive: true });
    expect(responseOf('101 Switching Protocols', [])).toMatchObject({ informational: false });
    expect(responseOf('200 OK', ['Content-Length: 0'])).toMatchObject({ informational: false });
  });
});
