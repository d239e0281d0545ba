import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedScanner, type ChunkedLimits } from './chunked-decoder.js';
import { HeadErrorCode } from './head-error.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

/** Scans `text` in pieces of `step` bytes; returns what it consumed in all and the last verdict. */
function scanInPieces(text: string, step: number, limits?: ChunkedLimits) {
  const scanner = new ChunkedScanner('request', limits);
  const buf = bytes(text);
  let consumed = 0;
  for (let at = 0; at < buf.length; at += step) {
    const r = scanner.scan(buf.subarray(at, Math.min(buf.length, at + step)));
    if (r.kind === 'error') return { error: r, consumed, done: false, dataBytes: scanner.dataBytes };
    consumed += r.consumed;
    if (r.done) break;
  }
  return { error: undefined, consumed, done: scanner.done, dataBytes: scanner.dataBytes };
}

describe('ChunkedScanner: where a chunked body ends', () => {
  it.each<[string, string, number]>([
    ['one chunk', '5\r\nhello\r\n0\r\n\r\n', 5],
    ['two chunks, upper-case hex', 'A\r\n0123456789\r\n1\r\n!\r\n0\r\n\r\n', 11],
    ['only the last chunk', '0\r\n\r\n', 0],
    ['leading zeros', '0005\r\nhello\r\n000\r\n\r\n', 5],
    ['extensions', '5;a=b;c="d e"\r\nhello\r\n0;last\r\n\r\n', 5],
    ['quoted extension with escapes', '2;a=b;c="q\\"\\\\"\r\nhi\r\n0\r\n\r\n', 2],
    ['trailers', '3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum:\t1 2\r\n\r\n', 3],
    ['CRLF inside data is data', '4\r\n\r\n\r\n\r\n0\r\n\r\n', 4],
  ])('%s', (_name, body, dataBytes) => {
    for (const step of [1, 2, 3, 7, body.length]) {
      const r = scanInPieces(`${body}NEXT`, step);
      expect(r, `step ${step}`).toEqual({ error: undefined, consumed: body.length, done: true, dataBytes });
    }
  });

  it('leaves the bytes after the body alone and consumes nothing once done', () => {
    const scanner = new ChunkedScanner('response');
    const buf = bytes('xx1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n');
    expect(scanner.scan(buf, 2)).toEqual({ kind: 'progress', consumed: 11, done: true });
    expect(scanner.scan(bytes('more'))).toEqual({ kind: 'progress', consumed: 0, done: true });
  });

  it('accepts the largest safe chunk size and waits for its data', () => {
    const scanner = new ChunkedScanner('request');
    expect(scanner.scan(bytes('1fffffffffffff\r\nabc'))).toEqual({
      kind: 'progress',
      consumed: 19,
      done: false,
    });
    expect(scanner.dataBytes).toBe(3);
  });

  it.each<[string, string, HeadErrorCode, number]>([
    ['non-hex size', 'g\r\n', HeadErrorCode.BadChunkSize, 0],
    ['empty size', '\r\n', HeadErrorCode.BadChunkSize, 0],
    ['sign', '-1\r\n', HeadErrorCode.BadChunkSize, 0],
    ['0x prefix', '0x5\r\n', HeadErrorCode.BadChunkSize, 1],
    ['space then CRLF', '5 \r\nhello\r\n', HeadErrorCode.BadChunkSize, 1],
    ['space before ";"', '5 ;a\r\nhello\r\n', HeadErrorCode.BadChunkSize, 1],
    ['2^53', '20000000000000\r\n', HeadErrorCode.ChunkSizeTooLarge, 13],
    ['17 digits', '00000000000000001\r\n', HeadErrorCode.ChunkSizeTooLarge, 16],
    ['bare LF after the size', '5\nhello\r\n', HeadErrorCode.BadChunkSize, 1],
    ['bare CR after the size', '5\rhello\r\n', HeadErrorCode.MissingChunkCrlf, 2],
    ['data longer than its size', '5\r\nhelloX\r\n', HeadErrorCode.MissingChunkCrlf, 8],
    ['data then bare LF', '5\r\nhello\n0\r\n\r\n', HeadErrorCode.MissingChunkCrlf, 8],
    ['control in an extension', '5;a\x01\r\nhello\r\n', HeadErrorCode.BadChunkExtension, 3],
    ['LF in an extension', '5;a\nhello\r\n', HeadErrorCode.BadChunkExtension, 3],
    ['space after ";"', '5; a\r\nhello\r\n', HeadErrorCode.BadChunkExtension, 2],
    ['space after an extension', '5;a \r\nhello\r\n', HeadErrorCode.BadChunkExtension, 3],
    ['empty extension name', '5;\r\nhello\r\n', HeadErrorCode.BadChunkExtension, 2],
    ['separator in an extension name', '5;a(b\r\nhello\r\n', HeadErrorCode.BadChunkExtension, 3],
    ['two words in an extension name', '5;a b\r\nhello\r\n', HeadErrorCode.BadChunkExtension, 3],
    ['empty extension value', '5;a=\r\nhello\r\n', HeadErrorCode.BadChunkExtension, 4],
    ['unterminated quoted value', '5;a="b\r\nhello\r\n', HeadErrorCode.BadChunkExtension, 6],
    ['text after a quoted value', '5;a="b"c\r\nhello\r\n', HeadErrorCode.BadChunkExtension, 7],
    ['trailer obs-fold', '0\r\nA: 1\r\n  2\r\n\r\n', HeadErrorCode.BadTrailer, 9],
    ['trailer without colon', '0\r\nNoColon\r\n\r\n', HeadErrorCode.BadTrailer, 10],
    ['space before a trailer colon', '0\r\nA : 1\r\n\r\n', HeadErrorCode.BadTrailer, 4],
    ['control in a trailer value', '0\r\nA: \x00\r\n\r\n', HeadErrorCode.BadTrailer, 6],
    ['bare LF ending the trailers', '0\r\n\n', HeadErrorCode.BadTrailer, 3],
    ['bare CR ending the trailers', '0\r\n\rX', HeadErrorCode.MissingChunkCrlf, 4],
  ])('refuses %s', (_name, body, code, offset) => {
    for (const step of [1, body.length]) {
      const r = scanInPieces(body, step);
      expect(r.error, `step ${step}`).toMatchObject({ kind: 'error', code, status: 400, offset, line: 0 });
      expect(r.error?.message).toContain(`byte ${offset}`);
    }
  });

  it('bounds extensions and trailers, and keeps refusing after an error', () => {
    const ext = `1;${'e'.repeat(20)}\r\na\r\n1;${'e'.repeat(20)}\r\na\r\n0\r\n\r\n`;
    expect(scanInPieces(ext, 5, { maxExtensionBytes: 40 }).error).toBeUndefined();
    expect(scanInPieces(ext, 5, { maxExtensionBytes: 39 }).error).toMatchObject({
      code: HeadErrorCode.BadChunkExtension,
    });
    const trailers = '0\r\nA: 123\r\n\r\n';
    expect(scanInPieces(trailers, 4, { maxTrailerBytes: 10 }).error).toBeUndefined();
    expect(scanInPieces(trailers, 4, { maxTrailerBytes: 9 }).error).toMatchObject({
      code: HeadErrorCode.BadTrailer,
    });
    const scanner = new ChunkedScanner('response');
    const first = scanner.scan(bytes('z'));
    expect(first).toMatchObject({ kind: 'error', status: 502 });
    expect(scanner.scan(bytes('0\r\n\r\n'))).toBe(first);
  });

  it('finds the same end whatever the pieces (property)', () => {
    const chunk = fc.record({
      data: fc.string({ maxLength: 40 }),
      ext: fc.constantFrom('', ';a', ';a=b', ';q="x y"'),
      upper: fc.boolean(),
    });
    const body = fc
      .record({
        chunks: fc.array(chunk, { maxLength: 6 }),
        trailers: fc.array(fc.constantFrom('A: 1', 'X-Y:', 'Z:\tq r'), { maxLength: 3 }),
      })
      .map(({ chunks, trailers }) => {
        const size = (n: number, upper: boolean) => (upper ? n.toString(16).toUpperCase() : n.toString(16));
        const parts = chunks
          .filter((c) => c.data.length > 0)
          .map((c) => `${size(Buffer.byteLength(c.data, 'latin1'), c.upper)}${c.ext}\r\n${c.data}\r\n`);
        const text = `${parts.join('')}0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`;
        const dataBytes = chunks.reduce((sum, c) => sum + c.data.length, 0);
        return { text, dataBytes };
      });
    fc.assert(
      fc.property(body, fc.integer({ min: 1, max: 64 }), ({ text, dataBytes }, step) => {
        expect(scanInPieces(`${text}GET`, step)).toEqual({
          error: undefined,
          consumed: Buffer.byteLength(text, 'latin1'),
          done: true,
          dataBytes,
        });
      }),
      { numRuns: 300, seed: 0x0c4c, endOnFailure: true },
    );
  });
});
