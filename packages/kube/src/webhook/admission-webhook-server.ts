// An HTTPS server for admission webhooks: AdmissionReview v1 in, AdmissionReview v1 out. Bad
// requests get a clear 4xx and the server keeps serving; a handler that throws gets a 500 so the
// apiserver applies the webhook's failurePolicy; the serving certificate is re-read when its
// files change, without dropping connections.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { Counter, Histogram, Registry } from 'prom-client';
import { silentLogger, type Logger } from '../logging/index.js';
import { counterOn, gaugeOn, histogramOn } from '../metrics/index.js';
import {
  ADMISSION_API_VERSION,
  toAdmissionReviewResponse,
  type AdmissionDecision,
  type AdmissionRequest,
  type AdmissionReview,
} from './admission-review.js';
import { CertificateFiles, type CertificatePair } from './certificate-files.js';

export interface AdmissionContext {
  /** Aborts if the apiserver goes away or the server shuts down. */
  signal: AbortSignal;
}

export type AdmissionHandler = (
  request: AdmissionRequest,
  context: AdmissionContext,
) => AdmissionDecision | Promise<AdmissionDecision>;

export interface AdmissionWebhookServerOptions {
  /** PEM files of the serving certificate (chain) and its key; re-read when they change. */
  certFile: string;
  keyFile: string;
  /** Handlers by URL path, e.g. `{ '/inject': inject }`. */
  handlers: Record<string, AdmissionHandler>;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Largest request body accepted. Default 3 MiB (an object may be 1.5 MiB, and UPDATE carries two). */
  maxBodyBytes?: number;
  /** Time allowed to read a request body. Default 10 s (the apiserver's default webhook timeout). */
  requestTimeoutMs?: number;
  logger?: Logger;
  registry?: Registry;
  /** How often to compare the certificate files besides watching them. Default 10 s. */
  certificatePollIntervalMs?: number;
}

type Outcome = 'allowed' | 'patched' | 'denied' | 'bad_request' | 'too_large' | 'not_found' | 'error';

interface WebhookMetrics {
  requests: Counter<'path' | 'outcome'>;
  duration: Histogram<'path'>;
  reloads: Counter<'result'>;
}

export class AdmissionWebhookServer {
  readonly #o: AdmissionWebhookServerOptions;
  readonly #logger: Logger;
  readonly #metrics: WebhookMetrics | undefined;
  readonly #certificates: CertificateFiles;
  readonly #inflight = new Set<AbortController>();
  readonly #expiry: { set(value: number): void } | undefined;
  #server: Server | undefined;

  constructor(options: AdmissionWebhookServerOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    const registry = options.registry;
    this.#metrics = registry
      ? {
          requests: counterOn(
            registry,
            'tsmesh_webhook_requests_total',
            'Admission requests, by path and outcome.',
            ['path', 'outcome'],
          ),
          duration: histogramOn(
            registry,
            'tsmesh_webhook_request_duration_seconds',
            'Time to answer an admission request.',
            ['path'],
            [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
          ),
          reloads: counterOn(
            registry,
            'tsmesh_webhook_certificate_reloads_total',
            'Serving certificate reloads, by result.',
            ['result'],
          ),
        }
      : undefined;
    const expiry = registry
      ? gaugeOn(
          registry,
          'tsmesh_webhook_certificate_expiry_timestamp_seconds',
          'notAfter of the serving certificate.',
          [],
        )
      : undefined;
    this.#expiry = expiry;
    this.#certificates = new CertificateFiles({
      certFile: options.certFile,
      keyFile: options.keyFile,
      logger: this.#logger,
      pollIntervalMs: options.certificatePollIntervalMs,
      onReload: (pair) => {
        this.#use(pair);
        expiry?.set(pair.notAfterMs / 1000);
        this.#metrics?.reloads.inc({ result: 'ok' });
      },
      onError: () => this.#metrics?.reloads.inc({ result: 'error' }),
    });
  }

  #use(pair: CertificatePair): void {
    this.#server?.setSecureContext({ cert: pair.cert, key: pair.key });
  }

  /** Loads the certificate (failing clearly if it is unusable) and listens. */
  async start(): Promise<{ host: string; port: number }> {
    const pair = await this.#certificates.start();
    this.#expiry?.set(pair.notAfterMs / 1000);
    const server = createServer(
      { cert: pair.cert, key: pair.key },
      (req, res) => void this.#handle(req, res),
    );
    server.headersTimeout = this.#o.requestTimeoutMs ?? 10_000;
    server.requestTimeout = this.#o.requestTimeoutMs ?? 10_000;
    // TLS handshakes that fail (a client that does not trust us) are the client's problem.
    server.on('tlsClientError', (err) => this.#logger.debug({ err: err.message }, 'TLS handshake failed'));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port ?? 0, this.#o.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    this.#logger.info({ host: address.address, port: address.port }, 'admission webhook server listening');
    return { host: address.address, port: address.port };
  }

  get address(): { host: string; port: number } {
    const address = this.#server?.address() as AddressInfo | null | undefined;
    if (!address) throw new MeshError(MeshErrorCode.Unavailable, 'webhook server not started');
    return { host: address.address, port: address.port };
  }

  /** Re-reads the certificate files now (they are also watched). */
  reloadCertificate(): Promise<void> {
    return this.#certificates.reload();
  }

  async close(): Promise<void> {
    this.#certificates.close();
    for (const c of this.#inflight) c.abort();
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  #reply(res: ServerResponse, status: number, body: unknown, close = false): void {
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    };
    if (close) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(text);
  }

  #fail(res: ServerResponse, status: number, message: string, close = false): void {
    this.#reply(
      res,
      status,
      { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status, message },
      close,
    );
  }

  async #readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too_large'> {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) return 'too_large';
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > max) return 'too_large';
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const path = new URL(req.url ?? '/', 'https://webhook').pathname;
    const handler = Object.hasOwn(this.#o.handlers, path) ? this.#o.handlers[path] : undefined;
    const label = handler ? path : 'unknown';
    const done = (outcome: Outcome) => {
      this.#metrics?.requests.inc({ path: label, outcome });
      this.#metrics?.duration.observe({ path: label }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    const controller = new AbortController();
    this.#inflight.add(controller);
    res.on('close', () => {
      controller.abort();
      this.#inflight.delete(controller);
    });
    try {
      if (!handler) {
        req.resume();
        this.#fail(
          res,
          404,
          `no admission webhook at ${path}; serving ${Object.keys(this.#o.handlers).join(', ')}`,
        );
        return done('not_found');
      }
      if (req.method !== 'POST') {
        req.resume();
        res.setHeader('allow', 'POST');
        this.#fail(
          res,
          405,
          `${req.method} not allowed: admission webhooks take POST with an AdmissionReview`,
        );
        return done('bad_request');
      }
      const max = this.#o.maxBodyBytes ?? 3 * 1024 * 1024;
      const body = await this.#readBody(req, max);
      if (body === 'too_large') {
        req.resume();
        this.#fail(res, 413, `request body larger than ${max} bytes`, true);
        return done('too_large');
      }
      let review: AdmissionReview;
      try {
        review = JSON.parse(body.toString('utf8')) as AdmissionReview;
      } catch (err) {
        this.#fail(res, 400, `request body is not valid JSON: ${(err as Error).message}`);
        return done('bad_request');
      }
      const request = review?.request;
      if (
        typeof review !== 'object' ||
        review === null ||
        review.kind !== 'AdmissionReview' ||
        review.apiVersion !== ADMISSION_API_VERSION ||
        typeof request?.uid !== 'string' ||
        !request.uid
      ) {
        this.#fail(
          res,
          400,
          `expected an AdmissionReview (apiVersion ${ADMISSION_API_VERSION}) with request.uid; got kind ${JSON.stringify(review?.kind)} apiVersion ${JSON.stringify(review?.apiVersion)}`,
        );
        return done('bad_request');
      }
      let decision: AdmissionDecision;
      try {
        decision = await handler(request, { signal: controller.signal });
      } catch (err) {
        const message = MeshError.is(err) ? err.describe() : String(err);
        this.#logger.error({ path, uid: request.uid, err: message }, 'admission handler failed');
        // An HTTP error lets the apiserver apply the webhook's failurePolicy (Ignore or Fail).
        this.#fail(res, 500, `admission handler failed: ${message}`);
        return done('error');
      }
      this.#reply(res, 200, toAdmissionReviewResponse(request.uid, decision));
      this.#logger.debug(
        {
          path,
          uid: request.uid,
          operation: request.operation,
          kind: request.kind?.kind,
          allowed: decision.allowed,
        },
        'admission request answered',
      );
      return done(!decision.allowed ? 'denied' : decision.patch?.length ? 'patched' : 'allowed');
    } catch (err) {
      // Reading the body failed (client went away, timeout): nothing to answer.
      this.#logger.debug({ path, err: String(err) }, 'admission request aborted');
      if (!res.headersSent)
        this.#fail(res, 400, `could not read the request: ${(err as Error).message}`, true);
      return done('bad_request');
    }
  }
}

export function createAdmissionWebhookServer(options: AdmissionWebhookServerOptions): AdmissionWebhookServer {
  return new AdmissionWebhookServer(options);
}
