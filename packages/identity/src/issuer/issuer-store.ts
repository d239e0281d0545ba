// The issuer in use, and the switch to a new one. A source (files or Kubernetes) offers material;
// the store parses and validates it (chains to the anchors, valid now, key matches) and only then
// swaps it in, atomically: a Certify call in flight keeps the issuer it started with, the next one
// gets the new one. Material that fails validation is refused, logged and counted, and the old
// issuer keeps serving — Linkerd has had outages from a silently missed or broken rotation.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { Logger } from '../logger.js';
import type { IdentityMetrics, IssuerRejectReason } from '../metrics/index.js';
import type { IssuerMaterial } from './issuer-material.js';
import type { SigningIssuer } from './signing-issuer.js';

export interface IssuerStore {
  /** The issuer in use, or undefined before the first valid one is loaded. */
  current(): SigningIssuer | undefined;
  /** Validate `material` and switch to it. Returns false (and keeps the old issuer) if invalid. */
  offer(material: IssuerMaterial): boolean;
  /** Resolves when an issuer is loaded (at once if one is). */
  whenReady(): Promise<void>;
  /** Called after each switch (first load included). */
  onChange(listener: (issuer: SigningIssuer) => void): () => void;
}

export interface IssuerStoreOptions {
  readonly load: (material: IssuerMaterial, nowMs: number) => SigningIssuer;
  readonly classify: (err: unknown) => IssuerRejectReason;
  readonly logger: Logger;
  readonly metrics: IdentityMetrics;
  readonly now?: () => number;
}

export function createIssuerStore(options: IssuerStoreOptions): IssuerStore {
  const now = options.now ?? Date.now;
  let issuer: SigningIssuer | undefined;
  const listeners = new Set<(issuer: SigningIssuer) => void>();
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));

  return {
    current: () => issuer,
    whenReady: () => ready,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    offer(material) {
      let next: SigningIssuer;
      try {
        next = options.load(material, now());
      } catch (err) {
        const reason = options.classify(err);
        options.metrics.issuerRejected.inc({ reason });
        options.logger.error(
          {
            origin: material.origin,
            reason,
            error: MeshError.is(err) ? err.describe() : String(err),
            keeping: issuer?.fingerprint,
          },
          issuer
            ? 'refused the new issuer; the previous issuer keeps serving'
            : 'refused the issuer; Certify is unavailable until a valid issuer is loaded',
        );
        return false;
      }
      if (
        issuer &&
        issuer.fingerprint === next.fingerprint &&
        issuer.anchorsFingerprint === next.anchorsFingerprint
      ) {
        return true;
      }
      const previous = issuer;
      issuer = next;
      options.metrics.issuerUpdates.inc();
      options.metrics.issuerExpiry.set(Math.floor(next.notAfterMs / 1000));
      options.logger.info(
        {
          origin: material.origin,
          issuer: next.subject,
          fingerprint: next.fingerprint,
          notAfter: new Date(next.notAfterMs).toISOString(),
          previous: previous?.fingerprint,
        },
        previous ? 'switched to the rotated issuer' : 'loaded the issuer',
      );
      resolveReady();
      for (const listener of listeners) listener(next);
      return true;
    },
  };
}

/** UNAVAILABLE unless an issuer is loaded and valid at `nowMs`. */
export function usableIssuer(store: IssuerStore, nowMs: number): SigningIssuer {
  const issuer = store.current();
  if (!issuer) {
    throw new MeshError(MeshErrorCode.Unavailable, 'no issuer loaded yet', {
      hint: 'the identity service has not loaded a valid issuer certificate and key; check its logs',
    });
  }
  if (nowMs >= issuer.notAfterMs) {
    throw new MeshError(
      MeshErrorCode.Unavailable,
      `the issuer certificate expired at ${new Date(issuer.notAfterMs).toISOString()}`,
      { hint: 'rotate the issuer (linkerd-identity-issuer)' },
    );
  }
  if (nowMs < issuer.notBeforeMs) {
    throw new MeshError(
      MeshErrorCode.Unavailable,
      `the issuer certificate is not valid until ${new Date(issuer.notBeforeMs).toISOString()}`,
      { hint: 'check the clocks, or wait' },
    );
  }
  return issuer;
}
