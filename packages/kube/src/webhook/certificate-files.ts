// A serving certificate and key read from files and re-read when they change (cert-manager and
// kubelet Secret mounts replace them by swapping a symlink, so the containing directories are
// watched, with a periodic check as a backstop). A new pair is used only if it loads and the key
// matches the certificate; otherwise the old one stays and the problem is reported.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { watch as watchFs, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { linkedAbortController, sleep } from '../async/index.js';
import { silentLogger, type Logger } from '../logging/index.js';

export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
  /** notAfter of the leaf, ms since the epoch. */
  notAfterMs: number;
}

export interface CertificateFilesOptions {
  certFile: string;
  keyFile: string;
  signal?: AbortSignal;
  logger?: Logger;
  /** Quiet time after a change before reading. Default 100 ms. */
  debounceMs?: number;
  /** Also compare the files on this interval. Default 10 s; 0 disables. */
  pollIntervalMs?: number;
  onReload?: (pair: CertificatePair) => void;
  onError?: (error: MeshError) => void;
}

/** Reads and checks a certificate/key pair. */
export async function loadCertificatePair(certFile: string, keyFile: string): Promise<CertificatePair> {
  let cert: Buffer;
  let key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  } catch (err) {
    throw new MeshError(
      MeshErrorCode.Config,
      `cannot read the serving certificate: ${(err as Error).message}`,
      { where: certFile, cause: err },
    );
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new MeshError(MeshErrorCode.Config, `not a PEM certificate: ${(err as Error).message}`, {
      where: certFile,
      cause: err,
    });
  }
  try {
    const privateKey = createPrivateKey(key);
    if (!leaf.checkPrivateKey(privateKey)) {
      throw new MeshError(MeshErrorCode.Config, 'the key does not belong to the certificate', {
        where: keyFile,
        hint: `the certificate is ${certFile}; replace both files together`,
      });
    }
    createSecureContext({ cert, key });
  } catch (err) {
    if (MeshError.is(err)) throw err;
    throw new MeshError(MeshErrorCode.Config, `unusable private key: ${(err as Error).message}`, {
      where: keyFile,
      cause: err,
    });
  }
  return { cert, key, notAfterMs: Date.parse(leaf.validTo) };
}

export class CertificateFiles {
  readonly #o: CertificateFilesOptions;
  readonly #logger: Logger;
  #current: CertificatePair | undefined;
  #watchers: FSWatcher[] = [];
  #debounce: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;
  readonly #controller: AbortController & { dispose(): void };

  constructor(options: CertificateFilesOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    this.#controller = linkedAbortController(options.signal);
  }

  get current(): CertificatePair {
    if (!this.#current) throw new MeshError(MeshErrorCode.Unavailable, 'serving certificate not loaded yet');
    return this.#current;
  }

  /** Loads the files (failing if they are unusable) and starts watching them. */
  async start(): Promise<CertificatePair> {
    this.#current = await loadCertificatePair(this.#o.certFile, this.#o.keyFile);
    const signal = this.#controller.signal;
    for (const dir of new Set([dirname(this.#o.certFile), dirname(this.#o.keyFile)])) {
      try {
        const watcher = watchFs(dir, { signal }, () => this.#schedule());
        watcher.on('error', (err) =>
          this.#logger.warn({ dir, err: err.message }, 'certificate directory watch failed'),
        );
        this.#watchers.push(watcher);
      } catch (err) {
        this.#logger.warn(
          { dir, err: (err as Error).message },
          'cannot watch certificate directory; relying on polling',
        );
      }
    }
    const interval = this.#o.pollIntervalMs ?? 10_000;
    if (interval > 0) {
      void (async () => {
        while (await sleep(interval, signal)) await this.reload(true);
      })();
    }
    return this.#current;
  }

  #schedule(): void {
    if (this.#controller.signal.aborted) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload(), this.#o.debounceMs ?? 100);
  }

  /** Re-reads the files now; keeps the old pair if the new one is unusable. */
  async reload(quietIfUnchanged = false): Promise<void> {
    while (this.#reloading) await this.#reloading;
    this.#reloading = (async () => {
      try {
        const next = await loadCertificatePair(this.#o.certFile, this.#o.keyFile);
        if (this.#current && next.cert.equals(this.#current.cert) && next.key.equals(this.#current.key)) {
          if (!quietIfUnchanged) this.#logger.debug({ certFile: this.#o.certFile }, 'certificate unchanged');
          return;
        }
        this.#current = next;
        this.#logger.info(
          { certFile: this.#o.certFile, notAfter: new Date(next.notAfterMs).toISOString() },
          'serving certificate reloaded',
        );
        this.#o.onReload?.(next);
      } catch (err) {
        const error = MeshError.is(err)
          ? err
          : new MeshError(MeshErrorCode.Config, String(err), { cause: err });
        this.#logger.warn(
          { err: error.describe() },
          'new serving certificate not usable; keeping the current one',
        );
        this.#o.onError?.(error);
      } finally {
        this.#reloading = undefined;
      }
    })();
    await this.#reloading;
  }

  close(): void {
    this.#controller.abort();
    this.#controller.dispose();
    clearTimeout(this.#debounce);
    for (const watcher of this.#watchers.splice(0)) watcher.close();
  }
}
