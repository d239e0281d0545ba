// Do two clusters trust each other's identities? Each side's proxies verify the other's leaf
// certificates against their own trust anchors, so the clusters must share at least one anchor
// (the same root, or bundles that both contain it).
import { X509Certificate } from 'node:crypto';
import { MeshError, MeshErrorCode } from '@tsmesh/core';

export interface AnchorInfo {
  readonly subject: string;
  readonly fingerprint256: string;
}

/** The certificates of a PEM bundle; a block that does not parse is an error naming `where`. */
export function parseAnchors(pem: string, where: string): AnchorInfo[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block, i) => {
    try {
      const cert = new X509Certificate(block);
      return { subject: cert.subject.replace(/\n/g, ', '), fingerprint256: cert.fingerprint256 };
    } catch (cause) {
      throw new MeshError(MeshErrorCode.CertificateInvalid, `certificate ${i + 1} does not parse`, {
        where,
        cause,
      });
    }
  });
}

/** Throws unless the two bundles share an anchor; returns the shared ones. */
export function sharedAnchors(
  local: { pem: string; where: string },
  remote: { pem: string; where: string },
): AnchorInfo[] {
  const mine = parseAnchors(local.pem, local.where);
  const theirs = parseAnchors(remote.pem, remote.where);
  if (mine.length === 0) {
    throw new MeshError(MeshErrorCode.NotFound, 'no trust anchors found', { where: local.where });
  }
  if (theirs.length === 0) {
    throw new MeshError(MeshErrorCode.NotFound, 'no trust anchors found', { where: remote.where });
  }
  const known = new Set(mine.map((a) => a.fingerprint256));
  const shared = theirs.filter((a) => known.has(a.fingerprint256));
  if (shared.length === 0) {
    const list = (anchors: AnchorInfo[]) =>
      anchors.map((a) => `${a.subject} (sha256 ${a.fingerprint256.slice(0, 23)}…)`).join('; ');
    throw new MeshError(
      MeshErrorCode.FailedPrecondition,
      `trust anchors differ: ${remote.where} has ${list(theirs)}, ${local.where} has ${list(mine)}`,
      {
        hint: 'install both control planes with the same trust anchor, or give each a bundle containing both anchors',
      },
    );
  }
  return shared;
}
