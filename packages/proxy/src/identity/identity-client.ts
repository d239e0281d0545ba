// The proxy side of identity: make an ECDSA P-256 key and a CSR for the proxy's identity once,
// then ask the identity service to certify it (Certify, with the ServiceAccount token read fresh
// from its file each time, since projected tokens rotate), renew at 70 % of the lifetime, retry
// with backoff on failure, and publish each new certificate as the latest value for TLS contexts.
import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import {
  createWorkloadCsr,
  encodePem,
  generateKeyPair,
  IdentityClient,
  MeshError,
  MeshErrorCode,
  parseWorkloadTrustAnchors,
  ProxyMetric,
  renewalDelayMs,
  type identity,
} from '@tsmesh/core/data-plane';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createBackoff, type BackoffOptions } from './backoff.js';

/** The proxy's current identity material. */
export interface IdentityCertificate {
  readonly identity: string;
  readonly privateKey: KeyObject;
  /** PKCS#8 PEM of the private key (for tls.createSecureContext). */
  readonly privateKeyPem: string;
  /** The leaf, then the intermediates, PEM (for tls.createSecureContext's `cert`). */
  readonly certificateChainPem: string;
  readonly leafDer: Uint8Array;
  readonly intermediatesDer: readonly Uint8Array[];
  readonly notAfterMs: number;
}

/** Key and CSR for an identity. */
export type CsrFactory = (identity: string) => { privateKey: KeyObject; csrDer: Uint8Array };

/**
 * A fresh ECDSA P-256 key and a CSR naming `identity` as its one DNS SAN with an empty subject, as
 * linkerd2-proxy sends it.
 */
export const createIdentityCsr: CsrFactory = (name) => {
  const { privateKey } = generateKeyPair();
  return { privateKey, csrDer: createWorkloadCsr(name, privateKey) };
};

export interface ProxyIdentityLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface ProxyIdentityOptions {
  /** The identity service, host:port (LINKERD2_PROXY_IDENTITY_SVC_ADDR). */
  readonly address: string;
  /** Channel credentials to the identity service; default insecure (the local control plane). */
  readonly channelCredentials?: ChannelCredentials;
  /** Client options, e.g. the TLS server name (see controlPlaneChannelCredentials). */
  readonly channelOptions?: ChannelOptions;
  /** The name to ask for (LINKERD2_PROXY_IDENTITY_LOCAL_NAME). */
  readonly localName: string;
  /** The ServiceAccount token file (LINKERD2_PROXY_IDENTITY_TOKEN_FILE). */
  readonly tokenFile: string;
  /** Default createIdentityCsr. */
  readonly createCsr?: CsrFactory;
  /**
   * The trust anchors (LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS). When given, every certificate the
   * service returns must chain to them and name `localName`, or it is refused and retried.
   */
  readonly trustAnchorsPem?: string;
  readonly registry: Registry;
  readonly logger?: ProxyIdentityLogger;
  readonly minRefreshMs?: number;
  readonly maxRefreshMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
  readonly callTimeoutMs?: number;
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

export interface ProxyIdentity {
  /** The latest certificate, or undefined before the first one. */
  current(): IdentityCertificate | undefined;
  /** Resolves with the first certificate (at once if there is one); rejects if closed first. */
  ready(): Promise<IdentityCertificate>;
  /** Called with every new certificate; returns an unsubscribe function. */
  subscribe(listener: (cert: IdentityCertificate) => void): () => void;
  /** Latest-value stream: yields the current certificate (if any), then each new one. */
  updates(signal?: AbortSignal): AsyncIterable<IdentityCertificate>;
  close(): void;
}

const silent: ProxyIdentityLogger = { info() {}, warn() {} };

export function startProxyIdentity(options: ProxyIdentityOptions): ProxyIdentity {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silent;
  const minRefreshMs = options.minRefreshMs ?? 10_000;
  const maxRefreshMs = options.maxRefreshMs ?? 24 * 3600_000;
  const backoff = createBackoff({ minMs: 1000, maxMs: 60_000, jitter: 0.1, ...options.backoff });
  const expiry = new Gauge({
    name: ProxyMetric.IdentityCertExpirationTimestampSeconds,
    help: 'Time when this proxy current mTLS identity certificate will expire (in seconds since the UNIX epoch)',
    registers: [options.registry],
  });
  // Linkerd's proxy exports this family as a counter without the _total suffix.
  const refreshes = new Counter({
    name: ProxyMetric.IdentityCertRefreshCount,
    help: 'The total number of times this proxy mTLS identity certificate has been refreshed by the Identity service',
    registers: [options.registry],
  });

  const { privateKey, csrDer } = (options.createCsr ?? createIdentityCsr)(options.localName);
  const anchors = options.trustAnchorsPem
    ? parseWorkloadTrustAnchors(options.trustAnchorsPem, 'trust anchors')
    : undefined;
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const client = new IdentityClient(
    options.address,
    options.channelCredentials ?? grpcCredentials.createInsecure(),
    options.channelOptions,
  );
  const controller = new AbortController();
  const onOuterAbort = () => close();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  let latest: IdentityCertificate | undefined;
  const listeners = new Set<(cert: IdentityCertificate) => void>();
  let timer: NodeJS.Timeout | undefined;
  const waiters: { resolve: (c: IdentityCertificate) => void; reject: (e: unknown) => void }[] = [];

  const schedule = (delayMs: number) => {
    if (controller.signal.aborted) return;
    timer = setTimeout(() => void attempt(), delayMs);
    timer.unref();
  };

  const certifyOnce = async (): Promise<IdentityCertificate> => {
    const token = await readFile(options.tokenFile);
    const response = await new Promise<identity.CertifyResponse>((resolve, reject) => {
      client.certify(
        { identity: options.localName, token, certificateSigningRequest: csrDer },
        { deadline: new Date(now() + (options.callTimeoutMs ?? 10_000)) },
        (err, res) => (err ? reject(err) : res ? resolve(res) : reject(new Error('empty response'))),
      );
    });
    if (response.leafCertificate.length === 0) {
      throw new MeshError(MeshErrorCode.InvalidArgument, 'the identity service returned no certificate');
    }
    const validUntilMs = response.validUntil
      ? Number(response.validUntil.seconds) * 1000 + Math.floor((response.validUntil.nanos ?? 0) / 1e6)
      : undefined;
    const chain = [response.leafCertificate, ...response.intermediateCertificates];
    const cert: IdentityCertificate = {
      identity: options.localName,
      privateKey,
      privateKeyPem,
      certificateChainPem: chain.map((der) => encodePem('CERTIFICATE', der)).join(''),
      leafDer: response.leafCertificate,
      intermediatesDer: response.intermediateCertificates,
      notAfterMs: validUntilMs ?? now() + minRefreshMs,
    };
    anchors?.verify(response.leafCertificate, response.intermediateCertificates, {
      identity: options.localName,
      at: new Date(now()),
    });
    return cert;
  };

  const attempt = async () => {
    if (controller.signal.aborted) return;
    try {
      const cert = await certifyOnce();
      if (controller.signal.aborted) return;
      latest = cert;
      backoff.reset();
      expiry.set(Math.floor(cert.notAfterMs / 1000));
      refreshes.inc();
      const delay = renewalDelayMs({ notAfter: new Date(cert.notAfterMs) }, undefined, {
        now: new Date(now()),
        minRefreshMs,
        maxRefreshMs,
      });
      logger.info(
        { identity: cert.identity, notAfter: new Date(cert.notAfterMs).toISOString(), refreshInMs: delay },
        'certified identity',
      );
      for (const w of waiters.splice(0)) w.resolve(cert);
      for (const listener of listeners) listener(cert);
      schedule(delay);
    } catch (err) {
      if (controller.signal.aborted) return;
      const delay = backoff.next();
      logger.warn(
        {
          identity: options.localName,
          error: err instanceof Error ? err.message : String(err),
          retryInMs: delay,
          attempt: backoff.attempts,
        },
        'certify failed; retrying',
      );
      // Keep the current certificate while it is valid; retry sooner if it is about to expire.
      schedule(delay);
    }
  };

  function close() {
    if (controller.signal.aborted) return;
    controller.abort();
    options.signal?.removeEventListener('abort', onOuterAbort);
    clearTimeout(timer);
    client.close();
    const closed = new MeshError(MeshErrorCode.Aborted, 'the identity client was closed');
    for (const w of waiters.splice(0)) w.reject(closed);
  }

  void attempt();

  return {
    current: () => latest,
    ready: () =>
      latest
        ? Promise.resolve(latest)
        : controller.signal.aborted
          ? Promise.reject(new MeshError(MeshErrorCode.Aborted, 'the identity client was closed'))
          : new Promise((resolve, reject) => waiters.push({ resolve, reject })),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    updates(signal?: AbortSignal): AsyncIterable<IdentityCertificate> {
      return {
        [Symbol.asyncIterator]() {
          let pending: IdentityCertificate | undefined = latest;
          let wake: (() => void) | undefined;
          const unsubscribe = (() => {
            const l = (c: IdentityCertificate) => {
              pending = c;
              wake?.();
            };
            listeners.add(l);
            return () => listeners.delete(l);
          })();
          const stop = () => wake?.();
          signal?.addEventListener('abort', stop, { once: true });
          controller.signal.addEventListener('abort', stop, { once: true });
          const finish = (): IteratorResult<IdentityCertificate> => {
            unsubscribe();
            signal?.removeEventListener('abort', stop);
            controller.signal.removeEventListener('abort', stop);
            return { done: true, value: undefined };
          };
          return {
            async next(): Promise<IteratorResult<IdentityCertificate>> {
              while (!pending) {
                if (signal?.aborted || controller.signal.aborted) return finish();
                await new Promise<void>((resolve) => (wake = resolve));
                wake = undefined;
              }
              if (signal?.aborted || controller.signal.aborted) return finish();
              const value = pending;
              pending = undefined;
              return { done: false, value };
            },
            async return(): Promise<IteratorResult<IdentityCertificate>> {
              return finish();
            },
          };
        },
      };
    },
    close,
  };
}
