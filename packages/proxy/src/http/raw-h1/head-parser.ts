// The HTTP/1.1 message-head parser of the raw-socket engine of issue #5 (packages/proxy/src/http/
// raw-h1; not wired into the proxy yet). It reads one request head or response head from the
// bytes received so far, as latin1, and either asks for more bytes, or returns the parsed head and
// how many bytes it took, or says precisely why the head is refused. Bodies are not its business:
// framing.ts decides them from the head.
//
// Rules applied (RFC 9112 unless said otherwise), stricter than the RFC's "MAY accept" leniencies
// on purpose, because a proxy that reads a head differently from the server behind it is how
// request smuggling happens:
//   §2.2  lines end in CRLF; a bare CR or a bare LF is refused (never taken as a line end);
//         empty lines before a request line are skipped (the "SHOULD ignore at least one" rule);
//   §3    request-line = method SP request-target SP HTTP-version, exactly one SP each, method a
//         token (RFC 9110 §9.1), target visible ASCII only (§3.2);
//   §2.3  HTTP-version = "HTTP/" DIGIT "." DIGIT; only 1.0 and 1.1 are served, others get 505;
//   §4    status-line = HTTP-version SP 3DIGIT SP reason-phrase (the SP before an empty reason
//         may be missing, as the RFC allows recipients to accept);
//   §5.1  field-name a token, no whitespace before the colon (MUST 400); values trimmed of OWS;
//   §5.2  obs-fold refused;
//   RFC 9110 §5.5  no control characters in values except HTAB (obs-text 0x80-0xFF is kept), and
//         no HTAB at all in Content-Length and Transfer-Encoding (llhttp refuses it there);
//   §3.2  an HTTP/1.1 request has exactly one Host, whose value is a uri-host [":" port];
//   RFC 6585 §5    a request head over the size limit gets 431.
// Response heads that break a rule get 502: the proxy answers its client, not the server.
import { hex, isControl, TOKEN } from './field-syntax.js';
import { type HeadError, HeadErrorCode, type HeadErrorStatus, headError } from './head-error.js';

/** The versions served. Anything else well-formed is answered 505. */
export type HttpVersion = '1.0' | '1.1';

/** Limits on a head. Both default to what Node and hyper (Linkerd's proxy) use. */
export interface HeadLimits {
  /** Bytes of the head including its final CRLFCRLF (Node's default --max-http-header-size). */
  readonly maxHeadBytes?: number;
  /** Header lines (hyper's default of 100). */
  readonly maxHeaderLines?: number;
}
export const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;
export const DEFAULT_MAX_HEADER_LINES = 100;

/** The header values framing and routing need, gathered while parsing (raw values, in order). */
export interface HeadFields {
  readonly host: string | undefined;
  readonly contentLength: readonly string[];
  readonly transferEncoding: readonly string[];
  readonly connection: readonly string[];
}

export interface RequestHead {
  readonly kind: 'request';
  readonly method: string;
  /** The request-target as sent: origin-form, absolute-form, authority-form or `*`. */
  readonly target: string;
  readonly version: HttpVersion;
  /** Flat `[name, value, …]`: names in their original case, values trimmed of OWS, in order. */
  readonly headers: readonly string[];
  readonly fields: HeadFields;
  /** Bytes of the buffer this head took, leading empty lines and the final CRLFCRLF included. */
  readonly consumed: number;
}

export interface ResponseHead {
  readonly kind: 'response';
  readonly version: HttpVersion;
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly string[];
  readonly fields: HeadFields;
  readonly consumed: number;
}

/**
 * No CRLFCRLF yet. The lines already complete were checked (a bad request line is refused before
 * the head ends, as llhttp does); pass this back as `resume` with the grown buffer so the next call
 * neither rescans nor rechecks them: a head sent a byte at a time costs linear time, not quadratic.
 */
export interface HeadIncomplete {
  readonly kind: 'incomplete';
  /** Offset up to which the buffer is known not to hold the end of the head. */
  readonly resumeAt: number;
  /** Offset of the first line not checked yet. */
  readonly checkedTo: number;
  /** How many complete lines were checked (the start line included). */
  readonly checkedLines: number;
}

export type RequestHeadResult = RequestHead | HeadIncomplete | HeadError;
export type ResponseHeadResult = ResponseHead | HeadIncomplete | HeadError;

export interface HeadParseOptions extends HeadLimits {
  /** The previous `incomplete` result for the same message, its buffer since grown. */
  readonly resume?: HeadIncomplete;
}

// What a Host value may hold: reg-name / IP-literal / IPv4 (RFC 3986 §3.2.2) and ":" port.
const HOST = new Uint8Array(256);
for (const c of "-._~!$&'()*+,;=%:[]") HOST[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) HOST[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) HOST[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) HOST[c] = 1;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
const NONE: readonly string[] = Object.freeze([]);

/** Parses a request head from `buf` (the bytes received so far on a connection, from a message start). */
export function parseRequestHead(buf: Buffer, options: HeadParseOptions = {}): RequestHeadResult {
  return parseHead(buf, true, options) as RequestHeadResult;
}

/** Parses a response head from `buf`. Every refusal carries status 502. */
export function parseResponseHead(buf: Buffer, options: HeadParseOptions = {}): ResponseHeadResult {
  return parseHead(buf, false, options) as ResponseHeadResult;
}

function parseHead(
  buf: Buffer,
  isRequest: boolean,
  options: HeadParseOptions,
): RequestHeadResult | ResponseHeadResult {
  const maxHeadBytes = options.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
  const maxHeaderLines = options.maxHeaderLines ?? DEFAULT_MAX_HEADER_LINES;
  const bad: HeadErrorStatus = isRequest ? 400 : 502;
  // RFC 9112 §2.2: skip empty lines before a request line (a client's stray CRLF after a body).
  let start = 0;
  if (isRequest) while (buf[start] === CR && buf[start + 1] === LF) start += 2;
  const resume = options.resume;
  const from = Math.max(start, resume?.resumeAt ?? 0);
  const end = buf.indexOf(CRLFCRLF, from);
  if (end < 0) {
    const ending = checkLineEnds(buf, from, buf.length, start, bad);
    if (ending !== undefined) return ending;
    if (buf.length - start > maxHeadBytes) return tooLarge(isRequest, maxHeadBytes, start);
    return checkCompleteLines(buf, isRequest, start, resume, maxHeaderLines);
  }
  const consumed = end + 4;
  if (consumed - start > maxHeadBytes) return tooLarge(isRequest, maxHeadBytes, start);
  // One latin1 string for the whole head: string searches stay in JavaScript (a Buffer's indexOf
  // is a native call per line).
  const text = buf.toString('latin1', start, end + 2);
  const ending = checkTextLineEnds(text, start, bad);
  if (ending !== undefined) return ending;
  // Lines are now known to end in CRLF with no other CR or LF.
  const lineEnd0 = text.indexOf('\r\n');
  const startLine = isRequest
    ? parseRequestLine(text, lineEnd0, start)
    : parseStatusLine(text, lineEnd0, start);
  if (startLine.kind === 'error') return startLine;

  const headers: string[] = [];
  let host: string | undefined;
  let hostCount = 0;
  let contentLength = NONE as string[];
  let transferEncoding = NONE as string[];
  let connection = NONE as string[];
  let line = 1;
  for (let pos = lineEnd0 + 2; pos < text.length;) {
    const eol = text.indexOf('\r\n', pos);
    line++;
    if (line - 1 > maxHeaderLines) return tooManyLines(isRequest, maxHeaderLines, start + pos, line);
    const colon = checkHeaderLine(text, pos, eol, start, line, bad);
    if (typeof colon !== 'number') return colon;
    const name = text.slice(pos, colon);
    // The value, OWS trimmed on both sides.
    let v0 = colon + 1;
    let v1 = eol;
    while (v0 < v1 && isOws(text.charCodeAt(v0))) v0++;
    while (v1 > v0 && isOws(text.charCodeAt(v1 - 1))) v1--;
    const value = text.slice(v0, v1);
    headers.push(name, value);
    switch (name.length) {
      case 4:
        if (isRequest && name.toLowerCase() === 'host') {
          hostCount++;
          if (hostCount > 1)
            return headError(
              HeadErrorCode.DuplicateHost,
              400,
              'more than one Host header (RFC 9112 §3.2)',
              start + pos,
              line,
            );
          for (let j = 0; j < value.length; j++)
            if (HOST[value.charCodeAt(j)] !== 1)
              return headError(
                HeadErrorCode.BadHost,
                400,
                `invalid character 0x${hex(value.charCodeAt(j))} in Host: expected host[:port] (RFC 9112 §3.2)`,
                start + v0 + j,
                line,
              );
          host = value;
        }
        break;
      case 10:
        if (name.toLowerCase() === 'connection') connection = append(connection, value);
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          const tab = tabInFramingValue(text, colon, eol, name, start, line, bad);
          if (tab !== undefined) return tab;
          contentLength = append(contentLength, value);
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          const tab = tabInFramingValue(text, colon, eol, name, start, line, bad);
          if (tab !== undefined) return tab;
          transferEncoding = append(transferEncoding, value);
        }
        break;
    }
    pos = eol + 2;
  }
  const fields: HeadFields = { host, contentLength, transferEncoding, connection };
  if (startLine.kind === 'request') {
    if (startLine.version === '1.1' && host === undefined)
      return headError(
        HeadErrorCode.MissingHost,
        400,
        'HTTP/1.1 request without a Host header (RFC 9112 §3.2); add one',
        start,
        0,
      );
    // Literals, not `{ ...startLine }`: an object spread was most of a small head's parse time.
    return {
      kind: 'request',
      method: startLine.method,
      target: startLine.target,
      version: startLine.version,
      headers,
      fields,
      consumed,
    };
  }
  return {
    kind: 'response',
    version: startLine.version,
    status: startLine.status,
    reason: startLine.reason,
    headers,
    fields,
    consumed,
  };
}

/**
 * Checks one header line [pos, eol) of `text` (which starts at buffer offset `base`): no obs-fold,
 * a token name right before the colon, no CTL but HTAB in the value. Returns the colon's index.
 */
function checkHeaderLine(
  text: string,
  pos: number,
  eol: number,
  base: number,
  line: number,
  bad: HeadErrorStatus,
): number | HeadError {
  const first = text.charCodeAt(pos);
  if (first === SP || first === HTAB)
    return headError(
      HeadErrorCode.ObsFold,
      bad,
      'header line starts with whitespace: obsolete line folding is not accepted (RFC 9112 §5.2); send the value on one line',
      base + pos,
      line,
    );
  let i = pos;
  while (i < eol && TOKEN[text.charCodeAt(i)] === 1) i++;
  if (i === eol)
    return headError(HeadErrorCode.MissingColon, bad, 'header line has no colon', base + pos, line);
  const stop = text.charCodeAt(i);
  if (stop !== 0x3a) {
    if ((stop === SP || stop === HTAB) && i > pos && colonAfterSpaces(text, i, eol))
      return headError(
        HeadErrorCode.SpaceBeforeColon,
        bad,
        `whitespace between header name "${text.slice(pos, i)}" and the colon (RFC 9112 §5.1); remove it`,
        base + i,
        line,
      );
    return headError(
      HeadErrorCode.BadHeaderName,
      bad,
      `invalid character 0x${hex(stop)} in a header name: names are tokens (RFC 9110 §5.1)`,
      base + i,
      line,
    );
  }
  if (i === pos) return headError(HeadErrorCode.BadHeaderName, bad, 'empty header name', base + pos, line);
  // The value: CTLs but HTAB refused, obs-text kept (RFC 9110 §5.5).
  for (let j = i + 1; j < eol; j++) {
    const c = text.charCodeAt(j);
    if (isControl(c))
      return headError(
        HeadErrorCode.BadHeaderValue,
        bad,
        `control character 0x${hex(c)} in the value of header "${text.slice(pos, i)}" (RFC 9110 §5.5)`,
        base + j,
        line,
      );
  }
  return i;
}

/** For a head not complete yet: checks the lines completed since `resume`, refusing early. */
function checkCompleteLines(
  buf: Buffer,
  isRequest: boolean,
  start: number,
  resume: HeadIncomplete | undefined,
  maxHeaderLines: number,
): HeadIncomplete | HeadError {
  const bad: HeadErrorStatus = isRequest ? 400 : 502;
  const resumeAt = Math.max(start, buf.length - 3);
  let checkedTo = Math.max(start, resume?.checkedTo ?? 0);
  let checkedLines = checkedTo === start ? 0 : (resume?.checkedLines ?? 0);
  const last = buf.lastIndexOf(CRLF);
  if (last < checkedTo) return { kind: 'incomplete', resumeAt, checkedTo, checkedLines };
  const text = buf.toString('latin1', checkedTo, last + 2);
  for (let pos = 0; pos < text.length;) {
    const eol = text.indexOf('\r\n', pos);
    checkedLines++;
    if (checkedLines === 1) {
      const startLine = isRequest
        ? parseRequestLine(text, eol, checkedTo)
        : parseStatusLine(text, eol, checkedTo);
      if (startLine.kind === 'error') return startLine;
    } else {
      if (checkedLines - 1 > maxHeaderLines)
        return tooManyLines(isRequest, maxHeaderLines, checkedTo + pos, checkedLines);
      const colon = checkHeaderLine(text, pos, eol, checkedTo, checkedLines, bad);
      if (typeof colon !== 'number') return colon;
    }
    pos = eol + 2;
  }
  checkedTo = last + 2;
  return { kind: 'incomplete', resumeAt, checkedTo, checkedLines };
}

/**
 * An HTAB after the colon of Content-Length or Transfer-Encoding. RFC 9110 allows it as OWS, but
 * llhttp (Node) refuses it there: a framing header two parsers could read differently is refused.
 */
function tabInFramingValue(
  text: string,
  colon: number,
  eol: number,
  name: string,
  base: number,
  line: number,
  bad: HeadErrorStatus,
): HeadError | undefined {
  const tab = text.indexOf('\t', colon);
  if (tab < 0 || tab >= eol) return undefined;
  const code = name.length === 14 ? HeadErrorCode.BadContentLength : HeadErrorCode.BadTransferEncoding;
  return headError(
    code,
    bad,
    `HTAB in the value of ${name}: refused in framing headers; use spaces`,
    base + tab,
    line,
  );
}

function tooManyLines(isRequest: boolean, max: number, offset: number, line: number): HeadError {
  return headError(
    HeadErrorCode.TooManyHeaders,
    isRequest ? 431 : 502,
    `more than ${max} header lines`,
    offset,
    line,
  );
}

interface RequestLine {
  readonly kind: 'request';
  readonly method: string;
  readonly target: string;
  readonly version: HttpVersion;
}
interface StatusLine {
  readonly kind: 'response';
  readonly version: HttpVersion;
  readonly status: number;
  readonly reason: string;
}

function parseRequestLine(text: string, eol: number, base: number): RequestLine | HeadError {
  const badLine = (what: string, at: number) =>
    headError(
      HeadErrorCode.BadRequestLine,
      400,
      `${what}: expected "METHOD SP target SP HTTP/1.1" (RFC 9112 §3)`,
      base + at,
      1,
    );
  const sp1 = text.indexOf(' ', 0);
  if (sp1 < 0 || sp1 >= eol) return badLine('request line has no space', 0);
  if (sp1 === 0) return badLine('request line starts with a space', 0);
  const sp2 = text.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 >= eol) return badLine('request line has only one space', sp1);
  if (sp2 === sp1 + 1) return badLine('two spaces after the method (empty target)', sp2);
  const sp3 = text.indexOf(' ', sp2 + 1);
  if (sp3 >= 0 && sp3 < eol) return badLine('more than two spaces in the request line', sp3);
  for (let i = 0; i < sp1; i++)
    if (TOKEN[text.charCodeAt(i)] !== 1)
      return headError(
        HeadErrorCode.BadMethod,
        400,
        `invalid character 0x${hex(text.charCodeAt(i))} in the method: methods are tokens (RFC 9110 §9.1)`,
        base + i,
        1,
      );
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = text.charCodeAt(i);
    if (c <= SP || c >= 0x7f)
      return headError(
        HeadErrorCode.BadTarget,
        400,
        `invalid byte 0x${hex(c)} in the request target: only visible ASCII is allowed (RFC 9112 §3.2); percent-encode it`,
        base + i,
        1,
      );
  }
  const method = text.slice(0, sp1);
  const target = text.slice(sp1 + 1, sp2);
  const form = targetFormProblem(method, target);
  if (form !== undefined)
    return headError(HeadErrorCode.BadTarget, 400, `${form} (RFC 9112 §3.2)`, base + sp1 + 1, 1);
  const version = parseVersion(text, sp2 + 1, eol, base, 400, 505);
  if (typeof version !== 'string') return version;
  return { kind: 'request', method, target, version };
}

// RFC 9112 §3.2: origin-form ("/…") or absolute-form ("scheme://…") for every method, the
// authority-form (host:port) only and always for CONNECT, the asterisk-form only for OPTIONS.
// The absolute-form's authority: host[:port] characters only, so no userinfo (RFC 9110 §4.2.4).
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+\-.]*:\/\/[A-Za-z0-9\-._~!$&'()*+,;=%:[\]]+(?:[/?]|$)/;
const AUTHORITY_FORM = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+):[0-9]{1,5}$/;

function targetFormProblem(method: string, target: string): string | undefined {
  if (method === 'CONNECT')
    return AUTHORITY_FORM.test(target) ? undefined : 'a CONNECT target must be host:port (authority-form)';
  if (target.charCodeAt(0) === 0x2f || ABSOLUTE_FORM.test(target)) return undefined;
  if (target === '*')
    return method === 'OPTIONS' ? undefined : `the target "*" is only for OPTIONS, not ${method}`;
  return 'the request target must start with "/" (origin-form) or be an absolute URI (scheme://host[:port]…, no userinfo)';
}

function parseStatusLine(text: string, eol: number, base: number): StatusLine | HeadError {
  const badLine = (what: string, at: number) =>
    headError(
      HeadErrorCode.BadStatusLine,
      502,
      `${what}: expected "HTTP/1.1 SP 3DIGIT SP reason" (RFC 9112 §4)`,
      base + at,
      1,
    );
  if (eol < 12 || text.charCodeAt(8) !== SP) return badLine('malformed status line', 0);
  const version = parseVersion(text, 0, 8, base, 502, 502);
  if (typeof version !== 'string') return version;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return badLine('status code is not three digits', i);
    status = status * 10 + d;
  }
  if (status < 100) return badLine(`status code ${status} is below 100`, 9);
  if (eol > 12 && text.charCodeAt(12) !== SP) return badLine('no space after the status code', 12);
  for (let i = 13; i < eol; i++) {
    const c = text.charCodeAt(i);
    if (isControl(c))
      return headError(
        HeadErrorCode.BadStatusLine,
        502,
        `control character 0x${hex(c)} in the reason phrase (RFC 9112 §4)`,
        base + i,
        1,
      );
  }
  return { kind: 'response', version, status, reason: eol > 13 ? text.slice(13, eol) : '' };
}

function parseVersion(
  text: string,
  from: number,
  to: number,
  base: number,
  bad: HeadErrorStatus,
  unsupported: HeadErrorStatus,
): HttpVersion | HeadError {
  const major = text.charCodeAt(from + 5) - 0x30;
  const minor = text.charCodeAt(from + 7) - 0x30;
  if (
    to - from !== 8 ||
    !text.startsWith('HTTP/', from) ||
    text.charCodeAt(from + 6) !== 0x2e ||
    !(major >= 0 && major <= 9) ||
    !(minor >= 0 && minor <= 9)
  )
    return headError(
      HeadErrorCode.BadVersion,
      bad,
      `malformed HTTP version "${text.slice(from, to)}": expected HTTP/DIGIT.DIGIT (RFC 9112 §2.3)`,
      base + from,
      1,
    );
  if (major === 1 && minor === 1) return '1.1';
  if (major === 1 && minor === 0) return '1.0';
  return headError(
    HeadErrorCode.UnsupportedVersion,
    unsupported,
    `HTTP/${major}.${minor} is not supported: only HTTP/1.0 and HTTP/1.1 (RFC 9110 §15.6.6)`,
    base + from,
    1,
  );
}

/** A CR not followed by LF, or an LF not preceded by CR, in [from, to); `start` is where the head begins. */
function checkLineEnds(
  buf: Buffer,
  from: number,
  to: number,
  start: number,
  bad: HeadErrorStatus,
): HeadError | undefined {
  for (let i = buf.indexOf(LF, from); i >= 0 && i < to; i = buf.indexOf(LF, i + 1))
    if (i === start || buf[i - 1] !== CR)
      return headError(
        HeadErrorCode.BareLf,
        bad,
        'line ends in a bare LF: lines must end in CRLF (RFC 9112 §2.2)',
        i,
        lineOf(buf, start, i),
      );
  for (let i = buf.indexOf(CR, from); i >= 0 && i < to; i = buf.indexOf(CR, i + 1))
    if (i + 1 < buf.length && buf[i + 1] !== LF)
      return headError(
        HeadErrorCode.BareCr,
        bad,
        'bare CR not followed by LF (RFC 9112 §2.2)',
        i,
        lineOf(buf, start, i),
      );
  return undefined;
}

/** checkLineEnds for a whole head already read as `text` (which starts at buffer offset `base`). */
function checkTextLineEnds(text: string, base: number, bad: HeadErrorStatus): HeadError | undefined {
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1))
    if (i === 0 || text.charCodeAt(i - 1) !== CR)
      return headError(
        HeadErrorCode.BareLf,
        bad,
        'line ends in a bare LF: lines must end in CRLF (RFC 9112 §2.2)',
        base + i,
        textLineOf(text, i),
      );
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1))
    if (text.charCodeAt(i + 1) !== LF)
      return headError(
        HeadErrorCode.BareCr,
        bad,
        'bare CR not followed by LF (RFC 9112 §2.2)',
        base + i,
        textLineOf(text, i),
      );
  return undefined;
}

function textLineOf(text: string, at: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function lineOf(buf: Buffer, start: number, at: number): number {
  let line = 1;
  for (let i = buf.indexOf(LF, start); i >= 0 && i < at; i = buf.indexOf(LF, i + 1)) line++;
  return line;
}

function tooLarge(isRequest: boolean, max: number, start: number): HeadError {
  return headError(
    HeadErrorCode.HeadTooLarge,
    isRequest ? 431 : 502,
    `${isRequest ? 'request' : 'response'} head larger than ${max} bytes`,
    start + max,
    0,
  );
}

function colonAfterSpaces(text: string, i: number, eol: number): boolean {
  while (i < eol && isOws(text.charCodeAt(i))) i++;
  return text.charCodeAt(i) === 0x3a;
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

function append(list: string[], value: string): string[] {
  return list === NONE ? [value] : (list.push(value), list);
}
