// Verified CSRs, remembered. linkerd2-proxy makes its key and CSR once at start-up and sends the
// same CSR with every renewal, so after the first Certify from a proxy the identity service can
// skip re-parsing and re-verifying it (about 1 ms of ASN.1 work each time): the verdict for the
// same bytes and the same identity cannot change. Bounded; least recently used goes first.
import { createHash, type KeyObject } from 'node:crypto';
import { verifyCertificateRequest } from '@tsmesh/core';

export interface CsrVerifier {
  /** The CSR's public key if the CSR is valid for `identity`; throws the library's IdentityError otherwise. */
  verify(csrDer: Uint8Array, identity: string): KeyObject;
  readonly size: number;
}

export function createCsrVerifier(options: { maxEntries?: number } = {}): CsrVerifier {
  const maxEntries = options.maxEntries ?? 10_000;
  const verified = new Map<string, KeyObject>();
  return {
    get size() {
      return verified.size;
    },
    verify(csrDer, identity) {
      const key = `${createHash('sha256').update(csrDer).digest('base64')}\0${identity}`;
      const hit = verified.get(key);
      if (hit) {
        verified.delete(key);
        verified.set(key, hit);
        return hit;
      }
      const result = verifyCertificateRequest(csrDer, { identity, where: 'CSR' });
      const publicKey = result.request.publicKey;
      if (maxEntries > 0) {
        verified.set(key, publicKey);
        if (verified.size > maxEntries) verified.delete(verified.keys().next().value as string);
      }
      return publicKey;
    },
  };
}
