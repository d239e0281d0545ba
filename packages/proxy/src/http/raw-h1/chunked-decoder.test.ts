import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedScanner, type ChunkedLimits } from './chunked-decoder.js';
import { type HeadError, HeadErrorCode } from './head-error.js';

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

/** Scans `pieces` in order with a sink; returns the decoded data (latin1), the trailers and more. */
function decodePieces(pieces: readonly Buffer[]) {
  const runs: string[] = [];
  const scanner = new ChunkedScanner(
    'response',
    {},
    {
      data(buf, start, end) {
        // A view of the piece being scanned, never empty, never past its end.
        if (!pieces.includes(buf) || !(start >= 0 && start < end && end <= buf.length))
          throw new Error(`bad data range [${start}, ${end}) of a ${buf.length}-byte buffer`);
        runs.push(buf.toString('latin1', start, end));
      },
    },
  );
  let consumed = 0;
  let error: HeadError | undefined;
  for (const piece of pieces) {
    const r = scanner.scan(piece);
    if (r.kind === 'error') error = r;
    else consumed += r.consumed;
    if (r.kind === 'error' || r.done) break;
  }
  return { error, consumed, done: scanner.done, data: runs.join(''), runs, trailers: scanner.trailers };
}

/** `text` cut at the given positions (any order, repeats and out-of-range ones ignored). */
function cut(text: string, at: readonly number[]): Buffer[] {
  const buf = bytes(text);
  const cuts = [...new Set(at.filter((n) => n > 0 && n < buf.length))].sort((a, b) => a - b);
  return [0, ...cuts].map((from, k) => buf.subarray(from, cuts[k] ?? buf.length));
}

/** Every way to cut `text` into pieces of one step, and into two or three pieces anywhere. */
function* everySplit(text: string): Generator<Buffer[]> {
  const n = text.length;
  for (let step = 1; step <= n; step++)
    yield cut(
      text,
      Array.from({ length: Math.ceil(n / step) }, (_, k) => k * step),
    );
  for (let a = 1; a < n; a++) for (let b = a; b < n; b++) yield cut(text, [a, b]);
}

/** A plain decoder of a valid chunked body (whole, latin1), to check the scanner's sink against. */
function referenceDecode(text: string) {
  let at = 0;
  let data = '';
  for (;;) {
    const eol = text.indexOf('\r\n', at);
    const size = Number.parseInt(text.slice(at, eol).split(';')[0] ?? '', 16);
    at = eol + 2;
    if (size === 0) break;
    data += text.slice(at, at + size);
    at += size + 2;
  }
  const trailers: string[] = [];
  for (let eol = text.indexOf('\r\n', at); eol !== at; eol = text.indexOf('\r\n', at)) {
    const m = /^([^:]+):[ \t]*(.*?)[ \t]*$/.exec(text.slice(at, eol));
    if (m === null) throw new Error(`reference decoder: bad trailer line at ${at}`);
    trailers.push(m[1] ?? '', m[2] ?? '');
    at = eol + 2;
  }
  return { data, trailers, length: at + 2 };
}

describe('ChunkedScanner: decoded data and trailers', () => {
  it.each<[string, string, string, string[]]>([
    ['one chunk', '5\r\nhello\r\n0\r\n\r\n', 'hello', []],
    ['chunks with extensions', 'A;a=b\r\n0123456789\r\n1;q="x y"\r\n!\r\n0;last\r\n\r\n', '0123456789!', []],
    ['CRLF and binary bytes as data', '6\r\n\r\n\x00\xff\r\n\r\n0\r\n\r\n', '\r\n\x00\xff\r\n', []],
    ['only the last chunk', '0\r\n\r\n', '', []],
    ['one trailer', '3\r\nabc\r\n0\r\ngrpc-status: 0\r\n\r\n', 'abc', ['grpc-status', '0']],
    [
      'several trailers, case and order kept',
      '1\r\nx\r\n0\r\nGrpc-Status:2\r\nGRPC-MESSAGE: it  failed: badly\r\nX-Empty:\r\ngrpc-status: 3\r\n\r\n',
      'x',
      ['Grpc-Status', '2', 'GRPC-MESSAGE', 'it  failed: badly', 'X-Empty', '', 'grpc-status', '3'],
    ],
    [
      'OWS trimmed, nothing else',
      '0;e\r\nA:\t \tv a\tl \t\r\nB: \xa0x\xa0 \r\nC:  \t \r\n\r\n',
      '',
      ['A', 'v a\tl', 'B', '\xa0x\xa0', 'C', ''],
    ],
  ])('%s, whatever the pieces', (_name, body, data, trailers) => {
    let splits = 0;
    for (const pieces of everySplit(`${body}NEXT`)) {
      const r = decodePieces(pieces);
      const how = `pieces of ${pieces.map((p) => p.length).join(',')} bytes`;
      expect(r, how).toMatchObject({ error: undefined, consumed: body.length, done: true, data, trailers });
      expect(Object.isFrozen(r.trailers), how).toBe(true);
      if (data === '') expect(r.runs, how).toEqual([]);
      splits++;
    }
    expect(splits).toBeGreaterThan(body.length * 2);
  });

  it('hands out ranges of the piece itself, from the offset given, one per run', () => {
    const buf = bytes('xx3\r\nabc\r\n2;e\r\nde\r\n0\r\n\r\nGET');
    const calls: [Buffer, number, number][] = [];
    const scanner = new ChunkedScanner(
      'request',
      {},
      { data: (b, start, end) => calls.push([b, start, end]) },
    );
    expect(scanner.scan(buf, 2)).toEqual({ kind: 'progress', consumed: 22, done: true });
    expect(calls).toEqual([
      [buf, 5, 8],
      [buf, 15, 17],
    ]);
    expect(calls.every(([b]) => b === buf)).toBe(true);
  });

  it('shows trailers only once done, and the same frozen array each time', () => {
    const scanner = new ChunkedScanner('response');
    expect(scanner.trailers).toEqual([]);
    expect(scanner.scan(bytes('0\r\nGrpc-Status: 0\r\n'))).toMatchObject({ done: false });
    expect(scanner.trailers).toEqual([]);
    expect(scanner.scan(bytes('\r\n'))).toMatchObject({ done: true });
    const trailers = scanner.trailers;
    expect(trailers).toEqual(['Grpc-Status', '0']);
    expect(scanner.trailers).toBe(trailers);
    expect(Object.isFrozen(trailers)).toBe(true);
  });

  it.each<[string, string, Partial<ChunkedLimits>]>([
    ['a bad line after a good one', '0\r\nA: 1\r\nB : 2\r\n\r\n', {}],
    ['a bare CR ending the section', '0\r\nA: 1\r\n\rX', {}],
    ['a section over the limit', '0\r\nA: 1\r\nB: 2\r\n\r\n', { maxTrailerBytes: 12 }],
  ])('collects no trailers from a body refused for %s', (_name, body, limits) => {
    for (const step of [1, body.length]) {
      const scanner = new ChunkedScanner('request', limits);
      const buf = bytes(body);
      let last;
      for (let at = 0; at < buf.length; at += step) {
        last = scanner.scan(buf.subarray(at, at + step));
        if (last.kind === 'error') break;
      }
      expect(last, `step ${step}`).toMatchObject({ kind: 'error' });
      expect(scanner.scan(bytes('\r\n'))).toBe(last);
      expect(scanner.done).toBe(false);
      expect(scanner.trailers, `step ${step}`).toEqual([]);
    }
  });

  it('decodes what a plain decoder decodes, whatever the pieces (property)', () => {
    const latin1 = (codes: number[]) => Buffer.from(codes).toString('latin1');
    const chunk = fc.record({
      data: fc.uint8Array({ minLength: 1, maxLength: 40 }),
      ext: fc.constantFrom('', ';a', ';a=b', ';q="x; y"'),
    });
    // Field values: HTAB, SP, VCHAR and obs-text, OWS at either end or not (RFC 9110 §5.5).
    const valueByte = fc.oneof(
      fc.constantFrom(0x09, 0x20),
      fc.integer({ min: 0x21, max: 0x7e }),
      fc.integer({ min: 0x80, max: 0xff }),
    );
    const trailer = fc
      .tuple(
        fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/),
        fc.constantFrom('', ' ', '\t', ' \t '),
        fc.array(valueByte, { maxLength: 20 }),
      )
      .map(([name, ows, value]) => `${name}:${ows}${latin1(value)}`);
    const body = fc
      .record({ chunks: fc.array(chunk, { maxLength: 6 }), trailers: fc.array(trailer, { maxLength: 4 }) })
      .map(({ chunks, trailers }) => {
        const parts = chunks.map(
          (c) => `${c.data.length.toString(16)}${c.ext}\r\n${latin1([...c.data])}\r\n`,
        );
        return `${parts.join('')}0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`;
      });
    const cuts = fc.array(fc.nat({ max: 1 << 20 }), { maxLength: 10 });
    fc.assert(
      fc.property(body, cuts, (text, at) => {
        const expected = referenceDecode(text);
        const input = `${text}GET`;
        const r = decodePieces(
          cut(
            input,
            at.map((n) => n % input.length),
          ),
        );
        expect(r).toMatchObject({
          error: undefined,
          consumed: expected.length,
          done: true,
          data: expected.data,
          trailers: expected.trailers,
        });
      }),
      { numRuns: 400, seed: 0x5eed, endOnFailure: true },
    );
  });
});
