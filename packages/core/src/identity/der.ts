// Just enough DER to keep bytes exact where it matters: the signed part of a certificate or CSR is
// verified over the bytes as received, and an issued certificate's issuer name must be the
// issuer's subject byte for byte (rustls/webpki and Go compare raw bytes). Typed structures are
// read and written with @peculiar/asn1-schema; this file only walks and concatenates TLVs (and
// der-writer.ts writes the few X.509 pieces the fast paths need), without any ASN.1 library.
import { MeshErrorCode } from '../errors/index.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';

export const DerTag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Oid: 0x06,
  Utf8String: 0x0c,
  UtcTime: 0x17,
  Sequence: 0x30,
  Set: 0x31,
  DnsName: 0x82, // GeneralName [2] IMPLICIT IA5String
  Uri: 0x86, // GeneralName [6] IMPLICIT IA5String
  ContextConstructed0: 0xa0, // [0], constructed
  ContextConstructed3: 0xa3, // [3], constructed
} as const;

/** One TLV: its tag, the whole encoding, and the content. */
export interface DerElement {
  readonly tag: number;
  readonly bytes: Uint8Array;
  readonly content: Uint8Array;
}

function malformed(message: string, where: string): IdentityError {
  return new IdentityError(MeshErrorCode.Decode, message, { reason: IdentityErrorReason.Malformed, where });
}

/** Reads the TLV at `offset`. Only definite lengths (DER) are accepted. */
export function readDerElement(bytes: Uint8Array, offset: number, where: string): DerElement {
  if (offset + 2 > bytes.length) throw malformed(`truncated DER at byte ${offset}`, where);
  const tag = bytes[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw malformed(`multi-byte DER tag at byte ${offset}`, where);
  let length = bytes[offset + 1] as number;
  let headerLength = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4)
      throw malformed(`unsupported DER length encoding at byte ${offset + 1}`, where);
    if (offset + 2 + count > bytes.length)
      throw malformed(`truncated DER length at byte ${offset + 1}`, where);
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + (bytes[offset + 2 + index] as number);
    headerLength += count;
  }
  const end = offset + headerLength + length;
  if (end > bytes.length) {
    throw malformed(
      `DER element at byte ${offset} claims ${length} bytes but only ${bytes.length - offset - headerLength} remain`,
      where,
    );
  }
  return { tag, bytes: bytes.subarray(offset, end), content: bytes.subarray(offset + headerLength, end) };
}

/** The single top-level SEQUENCE that must make up all of `bytes` (no trailing garbage). */
export function readDerSequence(bytes: Uint8Array, where: string): DerElement {
  const element = readDerElement(bytes, 0, where);
  if (element.tag !== DerTag.Sequence)
    throw malformed(`expected a DER SEQUENCE, found tag 0x${element.tag.toString(16)}`, where);
  if (element.bytes.length !== bytes.length) {
    throw malformed(`${bytes.length - element.bytes.length} unexpected bytes after the DER structure`, where);
  }
  return element;
}

/** The elements inside a constructed element's content. */
export function derChildren(element: DerElement, where: string): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = 0; offset < element.content.length;) {
    const child = readDerElement(element.content, offset, where);
    children.push(child);
    offset += child.bytes.length;
  }
  return children;
}

/** The DER length octets of `length` (definite form, minimal). */
export function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

/** One TLV around the concatenation of `parts`. */
export function derTlv(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const header = [tag, ...derLength(length)];
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  let offset = header.length;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A TLV with the given tag around the concatenated parts. */
export function encodeDer(tag: number, ...parts: Array<Uint8Array | ArrayBuffer>): Uint8Array {
  return derTlv(tag, ...parts.map((part) => (part instanceof Uint8Array ? part : new Uint8Array(part))));
}

/** A BIT STRING with no unused bits (how signatures are carried). */
export function encodeBitString(bytes: Uint8Array): Uint8Array {
  return encodeDer(DerTag.BitString, new Uint8Array([0]), bytes);
}
