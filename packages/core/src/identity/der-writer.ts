// A small DER writer for the certificates and requests tsmesh writes on hot or memory-sensitive
// paths: the identity service's leaf encoder (leaf-certificate.ts) and the proxy's CSR
// (workload-identity.ts). Plain TLV concatenation, no ASN.1 library: a proxy that imports only
// this side of identity does not load @peculiar/asn1-*.

import { DerTag, derTlv } from './der.js';

export const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

// 2.5.29.17 and 2.5.4.3, the two OIDs written per leaf and per CSR.
const SUBJECT_ALT_NAME_OID = new Uint8Array([0x06, 0x03, 0x55, 0x1d, 0x11]);
const COMMON_NAME_OID = new Uint8Array([0x06, 0x03, 0x55, 0x04, 0x03]);
const TRUE = new Uint8Array([DerTag.Boolean, 0x01, 0xff]);
const EMPTY_NAME = new Uint8Array([DerTag.Sequence, 0x00]);

/** A name with only a UTF8String common name, as `encodeCommonNameSubject` writes it. */
export function encodeLeafSubject(commonName: string | undefined): Uint8Array {
  if (!commonName) return EMPTY_NAME;
  const atv = derTlv(DerTag.Sequence, COMMON_NAME_OID, derTlv(DerTag.Utf8String, utf8(commonName)));
  return derTlv(DerTag.Sequence, derTlv(DerTag.Set, atv));
}

/** The subjectAltName extension with DNS names then URIs, as `subjectAltNameExtension` writes it. */
export function encodeSubjectAltName(
  dnsNames: readonly string[],
  uris: readonly string[],
  critical: boolean,
): Uint8Array {
  const names = [
    ...dnsNames.map((name) => derTlv(DerTag.DnsName, ascii(name))),
    ...uris.map((uri) => derTlv(DerTag.Uri, ascii(uri))),
  ];
  const value = derTlv(DerTag.OctetString, derTlv(DerTag.Sequence, ...names));
  return critical
    ? derTlv(DerTag.Sequence, SUBJECT_ALT_NAME_OID, TRUE, value)
    : derTlv(DerTag.Sequence, SUBJECT_ALT_NAME_OID, value);
}
