// Issuer and trust anchors from files: an issuer directory holding crt.pem/key.pem (what Linkerd
// mounts) or tls.crt/tls.key, and a trust-anchors file. Files are polled (content compared), which
// also catches Kubernetes' atomic symlink swaps of mounted Secrets that fs.watch misses.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IssuerSecretKeys, readIssuerSecretData, type IssuerMaterial } from './issuer-material.js';

export interface FileIssuerSourceOptions {
  readonly issuerDir: string;
  /** Trust anchors PEM file; default `<issuerDir>/ca.crt` if present. */
  readonly trustAnchorsFile?: string;
  readonly pollIntervalMs?: number;
  readonly signal: AbortSignal;
  readonly onMaterial: (material: IssuerMaterial) => void;
  readonly onError: (err: unknown) => void;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function readIssuerDir(issuerDir: string, trustAnchorsFile?: string): Promise<IssuerMaterial> {
  const data: Record<string, string> = {};
  for (const key of Object.values(IssuerSecretKeys)) {
    const text = await readOptional(join(issuerDir, key));
    if (text !== undefined) data[key] = text;
  }
  const picked = readIssuerSecretData(data);
  if ('missing' in picked) throw new Error(`${issuerDir}: ${picked.missing}`);
  const anchorsPath = trustAnchorsFile ?? join(issuerDir, IssuerSecretKeys.TlsCa);
  const trustAnchorsPem = (await readOptional(anchorsPath)) ?? picked.caPem;
  if (!trustAnchorsPem) throw new Error(`no trust anchors: ${anchorsPath} does not exist`);
  return {
    certificatePem: picked.certificatePem,
    privateKeyPem: picked.privateKeyPem,
    trustAnchorsPem,
    origin: issuerDir,
  };
}

/** Reads now, then polls; calls onMaterial whenever the content changes. Resolves after the first read. */
export async function watchIssuerDir(options: FileIssuerSourceOptions): Promise<void> {
  let last = '';
  const poll = async () => {
    try {
      const material = await readIssuerDir(options.issuerDir, options.trustAnchorsFile);
      const fingerprint = `${material.certificatePem}\0${material.privateKeyPem}\0${material.trustAnchorsPem}`;
      if (fingerprint !== last) {
        last = fingerprint;
        options.onMaterial(material);
      }
    } catch (err) {
      options.onError(err);
    }
  };
  await poll();
  const timer = setInterval(() => void poll(), options.pollIntervalMs ?? 1000);
  timer.unref();
  options.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
