// Property test with Node's own HTTP parser (llhttp, strict mode as node:http servers run it) as
// the oracle for parseRequestHead + requestFraming: generated request heads, valid and mutated,
// go to both. Whenever llhttp refuses a head, ours must refuse it too (we may be stricter: e.g.
// missing Host, Transfer-Encoding in HTTP/1.0), with two deliberate exceptions of our own:
// extension methods (RFC 9110 §9.1 allows any token; llhttp knows a fixed list) and repeated equal
// Content-Length values (RFC 9110 §8.6 allows them; llhttp refuses every duplicate). When both
// accept, method, target and headers must agree. A second property feeds chunked bodies (valid and
// mutated) to llhttp a byte at a time and to ChunkedScanner: both must find the same end, and what
// llhttp refuses before that end we refuse. Fixed seeds and run counts: deterministic in CI.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedScanner } from './chunked-decoder.js';
import { requestFraming } from './framing.js';
import { parseRequestHead } from './head-parser.js';

// HTTPParser is Node's internal binding to llhttp; tests only, never product code.
interface NodeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  close(): void;
  [callback: number]: (...args: never[]) => unknown;
}
interface NodeParserClass {
  new (): NodeParser;
  readonly REQUEST: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageBegin: number;
  readonly kOnMessageComplete: number;
  readonly kOnExecute: number;
}
// `methods` is llhttp's method table, in the order of the numbers its callback passes.
const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: NodeParserClass;
  methods: readonly string[];
};

type Verdict =
  | { readonly kind: 'accept'; readonly method: string; readonly target: string; readonly headers: string[] }
  | { readonly kind: 'reject'; readonly reason: string }
  | { readonly kind: 'incomplete' };

function nodeVerdict(input: Buffer): Verdict {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 16 * 1024, 0);
  let head: Verdict | undefined;
  let pending: string[] = [];
  let url = '';
  parser[HTTPParser.kOnHeaders] = (headers: string[], u: string) => {
    pending = pending.concat(headers);
    url += u;
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    _major: number,
    _minor: number,
    headers: string[] | undefined,
    method: number,
    u: string | undefined,
  ) => {
    head = {
      kind: 'accept',
      method: methods[method] ?? `#${method}`,
      target: u ?? url,
      headers: headers ?? pending,
    };
    return 0;
  };
  for (const k of [
    HTTPParser.kOnBody,
    HTTPParser.kOnMessageBegin,
    HTTPParser.kOnMessageComplete,
    HTTPParser.kOnExecute,
  ])
    parser[k] = () => undefined;
  try {
    const result = parser.execute(input);
    if (result instanceof Error)
      return { kind: 'reject', reason: (result as Error & { code?: string }).code ?? 'error' };
    return head ?? { kind: 'incomplete' };
  } finally {
    parser.close();
  }
}

function ourVerdict(input: Buffer): Verdict & { readonly repeatedLength?: boolean } {
  const head = parseRequestHead(input);
  if (head.kind === 'incomplete') return { kind: 'incomplete' };
  if (head.kind === 'error') return { kind: 'reject', reason: head.code };
  const framing = requestFraming(head);
  if (framing.kind === 'error') return { kind: 'reject', reason: framing.code };
  return {
    kind: 'accept',
    method: head.method,
    target: head.target,
    headers: [...head.headers],
    repeatedLength: framing.contentLengthRepeated,
  };
}

// --- generators: mostly plausible heads, then byte-level mutations -------------------------------
const method = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'), weight: 10 },
  { arbitrary: fc.constantFrom('get', 'GETX', 'CONNECT'), weight: 1 },
);
const targetChar = fc.constantFrom(...'abcXYZ019/?=&%-._~!$\'()*+,;:@[]"<>{}|\\^`'.split(''));
const target = fc.oneof(
  { arbitrary: fc.array(targetChar, { maxLength: 12 }).map((cs) => `/${cs.join('')}`), weight: 8 },
  { arbitrary: fc.constantFrom('*', 'http://h.example/x', 'h.example:443', ''), weight: 1 },
);
const version = fc.oneof(
  { arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'), weight: 8 },
  { arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/1.2', 'HTTP/1.', 'http/1.1', 'HTTP/1.1 '), weight: 1 },
);
const name = fc.oneof(
  { arbitrary: fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Connection'), weight: 1 },
  { arbitrary: fc.constantFrom('content-length', 'X-A', 'Accept', 'Cookie'), weight: 2 },
  { arbitrary: fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,8}$/), weight: 3 },
);
const valueChar = fc.constantFrom(...'abc XYZ 019\t,;=:/"\xe9\xff'.split(''));
const value = fc.oneof(
  fc.constantFrom(
    'h.example',
    '5',
    '0',
    '5, 5',
    '5, 6',
    'chunked',
    'gzip, chunked',
    'chunked, gzip',
    'close',
    'keep-alive',
    '-1',
    '',
  ),
  fc.array(valueChar, { maxLength: 16 }).map((cs) => cs.join('')),
);
const header = fc.tuple(
  name,
  fc.constantFrom(': ', ':', ':  ', ': \t'),
  value,
  fc.constantFrom('', '', ' ', '\t'),
);
const head = fc
  .record({
    leading: fc.constantFrom('', '', '', '\r\n'),
    method,
    target,
    version,
    host: fc.nat(7),
    headers: fc.array(header, { maxLength: 6 }),
  })
  .map((h) => {
    const lines = [`${h.method} ${h.target} ${h.version}`];
    if (h.host > 0) lines.push('Host: h.example');
    for (const [n, sep, v, trail] of h.headers) lines.push(`${n}${sep}${v}${trail}`);
    return `${h.leading}${lines.join('\r\n')}\r\n\r\n`;
  });
const mutation = fc.record({
  op: fc.constantFrom('insert', 'replace', 'delete'),
  at: fc.nat(),
  byte: fc.constantFrom(0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x00, 0x7f, 0x80, 0xff, 0x28, 0x2c, 0x22, 0x41, 0x0b),
});
const input = fc
  .tuple(head, fc.array(mutation, { maxLength: 3 }), fc.nat(3))
  .map(([text, mutations, keep]) => {
    let bytes = [...Buffer.from(text, 'latin1')];
    // Only a quarter of the heads are mutated; 0 to 2 keep theirs pristine.
    if (keep === 3)
      for (const m of mutations) {
        const at = m.at % (bytes.length + 1);
        if (m.op === 'insert') bytes.splice(at, 0, m.byte);
        else if (m.op === 'replace' && at < bytes.length) bytes[at] = m.byte;
        else if (m.op === 'delete') bytes.splice(at, 1);
      }
    // Nothing after the first CRLFCRLF: body bytes are not this test's business.
    const buf = Buffer.from(bytes);
    const end = buf.indexOf('\r\n\r\n');
    if (end >= 0) bytes = [...buf.subarray(0, end + 4)];
    return Buffer.from(bytes);
  });

/** Whether the head starts with a token method llhttp does not know (after skipped empty lines). */
function isExtensionMethod(buf: Buffer): boolean {
  const line = buf.toString('latin1').replace(/^(\r\n)+/, '');
  const method = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?= )/.exec(line)?.[0];
  return method !== undefined && !methods.includes(method);
}

describe('parseRequestHead + requestFraming against Node’s llhttp', () => {
  it('refuses whatever llhttp refuses (but for the stated exceptions) and agrees when both accept', () => {
    const tally = { bothAccept: 0, bothReject: 0, onlyWeReject: 0, exceptions: 0 };
    fc.assert(
      fc.property(input, (buf) => {
        const node = nodeVerdict(buf);
        let ours = ourVerdict(buf);
        // llhttp refuses a bad line as soon as it sees it; we may wait for the end of the head (we
        // forward nothing meanwhile). What matters is that the head, once complete, is refused.
        if (node.kind === 'reject' && ours.kind === 'incomplete')
          ours = ourVerdict(Buffer.concat([buf, Buffer.from('\r\n\r\n')]));
        const shown = JSON.stringify(buf.toString('latin1'));
        if (node.kind === 'reject') {
          if (ours.kind !== 'reject') {
            // Our deliberate differences (see the top of the file), then nothing else.
            const extensionMethod = node.reason === 'HPE_INVALID_METHOD' && isExtensionMethod(buf);
            const repeatedLength =
              ours.kind === 'accept' &&
              ours.repeatedLength === true &&
              (node.reason === 'HPE_UNEXPECTED_CONTENT_LENGTH' ||
                node.reason === 'HPE_INVALID_CONTENT_LENGTH');
            expect(
              extensionMethod || repeatedLength,
              `llhttp ${node.reason}, we ${ours.kind}: ${shown}`,
            ).toBe(true);
            tally.exceptions++;
          } else tally.bothReject++;
        } else if (node.kind === 'accept') {
          if (ours.kind === 'accept') {
            expect({ method: ours.method, target: ours.target, headers: ours.headers }, shown).toEqual({
              method: node.method,
              target: node.target,
              headers: node.headers,
            });
            tally.bothAccept++;
          } else {
            expect(ours.kind, `llhttp accepts, we are ${ours.kind}: ${shown}`).toBe('reject');
            tally.onlyWeReject++;
          }
        } else {
          expect(ours.kind, `llhttp waits for more, we accept ${shown}`).not.toBe('accept');
        }
      }),
      { numRuns: 400, seed: 0x7135, endOnFailure: true },
    );
    // The generator must exercise both sides: enough agreement and enough refusals.
    expect(tally.bothAccept, JSON.stringify(tally)).toBeGreaterThan(60);
    expect(tally.bothReject, JSON.stringify(tally)).toBeGreaterThan(60);
  });
});

// --- chunked bodies: llhttp fed a byte at a time says where the body ends, or where it fails -----
type BodyVerdict =
  | { readonly kind: 'end'; readonly at: number }
  | { readonly kind: 'reject'; readonly at: number; readonly reason: string }
  | { readonly kind: 'incomplete' };

const CHUNKED_HEAD = Buffer.from(
  'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n',
  'latin1',
);

function nodeBodyVerdict(body: Buffer): BodyVerdict {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 16 * 1024, 0);
  let complete = false;
  for (const k of [
    HTTPParser.kOnHeaders,
    HTTPParser.kOnHeadersComplete,
    HTTPParser.kOnBody,
    HTTPParser.kOnMessageBegin,
    HTTPParser.kOnExecute,
  ])
    parser[k] = () => 0;
  parser[HTTPParser.kOnMessageComplete] = () => {
    complete = true;
  };
  try {
    if (parser.execute(CHUNKED_HEAD) instanceof Error) throw new Error('llhttp refused the fixed head');
    for (let at = 0; at < body.length; at++) {
      const r = parser.execute(body.subarray(at, at + 1));
      if (r instanceof Error)
        return { kind: 'reject', at, reason: (r as Error & { code?: string }).code ?? 'error' };
      if (complete) return { kind: 'end', at: at + 1 };
    }
    return { kind: 'incomplete' };
  } finally {
    parser.close();
  }
}

const chunkBody = fc
  .record({
    chunks: fc.array(
      fc.record({
        data: fc.string({ maxLength: 12 }),
        ext: fc.constantFrom('', '', ';a', ';a=b', ';q="x y"', ';r="\\""'),
      }),
      { maxLength: 4 },
    ),
    trailers: fc.array(fc.constantFrom('A: 1', 'X-Y:', 'Z:\tq r'), { maxLength: 2 }),
    mutations: fc.array(mutation, { maxLength: 2 }),
    mutate: fc.boolean(),
  })
  .map(({ chunks, trailers, mutations, mutate }) => {
    const parts = chunks
      .filter((c) => c.data.length > 0)
      .map((c) => `${c.data.length.toString(16)}${c.ext}\r\n${c.data}\r\n`);
    const bytes = [
      ...Buffer.from(`${parts.join('')}0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`, 'latin1'),
    ];
    if (mutate)
      for (const m of mutations) {
        const at = m.at % (bytes.length + 1);
        if (m.op === 'insert') bytes.splice(at, 0, m.byte);
        else if (m.op === 'replace' && at < bytes.length) bytes[at] = m.byte;
        else if (m.op === 'delete') bytes.splice(at, 1);
      }
    return Buffer.from(bytes);
  });

describe('ChunkedScanner against Node’s llhttp', () => {
  it('ends a chunked body where llhttp does, and refuses what llhttp refuses before that end', () => {
    const tally = { sameEnd: 0, bothReject: 0 };
    fc.assert(
      fc.property(chunkBody, (body) => {
        const node = nodeBodyVerdict(body);
        const ours = new ChunkedScanner('request').scan(body);
        const shown = JSON.stringify(body.toString('latin1'));
        if (node.kind === 'end') {
          if (ours.kind === 'error') return; // stricter than llhttp: allowed
          expect(ours, `llhttp ends at ${node.at}: ${shown}`).toEqual({
            kind: 'progress',
            consumed: node.at,
            done: true,
          });
          tally.sameEnd++;
        } else if (node.kind === 'reject') {
          // An error after our end belongs to the next message, which is not the scanner's business.
          if (ours.kind === 'progress' && ours.done && ours.consumed <= node.at) return;
          expect(ours.kind, `llhttp ${node.reason} at ${node.at}, we ${JSON.stringify(ours)}: ${shown}`).toBe(
            'error',
          );
          tally.bothReject++;
        } else {
          expect(ours.kind === 'progress' && ours.done, `llhttp waits, we end: ${shown}`).toBe(false);
        }
      }),
      { numRuns: 400, seed: 0x5ca7, endOnFailure: true },
    );
    expect(tally.sameEnd, JSON.stringify(tally)).toBeGreaterThan(100);
    expect(tally.bothReject, JSON.stringify(tally)).toBeGreaterThan(30);
  });
});
