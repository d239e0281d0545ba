// PEM (RFC 7468) encoding and decoding. Bundles are read the way Go's AppendCertsFromPEM and
// openssl read them: any text between blocks is ignored, blocks of other types are returned for
// the caller to skip. Legacy encrypted PEM (Proc-Type/DEK-Info headers) is reported, not guessed at.
import { MeshErrorCode } from '../errors/index.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';

/** One decoded PEM block: its label (`CERTIFICATE`, `EC PRIVATE KEY`, …), any RFC 1421 headers, and its DER bytes. */
export interface PemBlock {
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly der: Uint8Array;
}

/** Bytes or text that may be DER or PEM. */
export type PemOrDer = string | Uint8Array;

const BEGIN = /-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+)*)-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function malformed(message: string, where: string, hint?: string): IdentityError {
  return new IdentityError(MeshErrorCode.Decode, message, {
    reason: IdentityErrorReason.Malformed,
    where,
    hint,
  });
}

/** Decodes every PEM block in `text`, in order. Text outside blocks is ignored. */
export function decodePem(text: string, options: { where?: string } = {}): PemBlock[] {
  const where = options.where ?? 'PEM';
  const blocks: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  for (let match = BEGIN.exec(text); match !== null; match = BEGIN.exec(text)) {
    const type = match[1] as string;
    const blockWhere = `${where}, block ${blocks.length + 1} (${type})`;
    const endMarker = `-----END ${type}-----`;
    const bodyStart = match.index + match[0].length;
    const end = text.indexOf(endMarker, bodyStart);
    if (end === -1)
      throw malformed(
        `"-----BEGIN ${type}-----" has no matching "${endMarker}"`,
        blockWhere,
        'the PEM text is truncated',
      );
    const lines = text
      .slice(bodyStart, end)
      .split(/\r?\n/)
      .map((line) => line.trim());
    const headers: Record<string, string> = {};
    let index = 0;
    while (index < lines.length && lines[index] === '') index++;
    if (index < lines.length && (lines[index] as string).includes(':')) {
      while (index < lines.length && lines[index] !== '') {
        const line = lines[index] as string;
        const colon = line.indexOf(':');
        if (colon === -1) throw malformed(`header line ${JSON.stringify(line)} has no ':'`, blockWhere);
        headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
        index++;
      }
    }
    const body = lines.slice(index).join('');
    if (body.length % 4 !== 0 || !BASE64.test(body)) {
      const bad = /[^A-Za-z0-9+/=]/.exec(body);
      throw malformed(
        bad
          ? `invalid base64 character ${JSON.stringify(bad[0])}`
          : 'base64 body has a bad length or padding',
        blockWhere,
        'the PEM text is corrupted or truncated',
      );
    }
    const der = new Uint8Array(Buffer.from(body, 'base64'));
    if (der.length === 0) throw malformed('block is empty', blockWhere);
    blocks.push(Object.freeze({ type, headers: Object.freeze(headers), der }));
    BEGIN.lastIndex = end + endMarker.length;
  }
  return blocks;
}

/** Encodes DER bytes as one PEM block with 64-character lines. */
export function encodePem(type: string, der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** True when the input is PEM text (or the bytes of PEM text) rather than DER. */
export function isPem(input: PemOrDer): boolean {
  if (typeof input === 'string') return true;
  // DER starts with a tag byte (0x30 for every structure here); PEM starts with text.
  const first = input.find((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d);
  return first !== undefined && first !== 0x30;
}

/** The text of PEM input given as a string or as bytes. */
export function pemText(input: PemOrDer): string {
  return typeof input === 'string'
    ? input
    : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
}

/**
 * The DER bytes of every block of one of `types` in the input, or the input itself when it is DER.
 * Throws a `malformed` IdentityError when there is none.
 */
export function derBlocks(input: PemOrDer, types: readonly string[], where: string): Uint8Array[] {
  if (!isPem(input)) return [input as Uint8Array];
  const text = pemText(input);
  const found = decodePem(text, { where }).filter((block) => types.includes(block.type));
  if (found.length === 0) {
    throw malformed(
      `no ${types.map((t) => `"${t}"`).join(' or ')} PEM block found`,
      where,
      `expected "-----BEGIN ${types[0]}-----"`,
    );
  }
  return found.map((block) => block.der);
}
