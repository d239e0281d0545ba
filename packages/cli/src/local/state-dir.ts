// The local control plane's state directory: the trust anchor and issuer (created on first run
// with the identity library, reused afterwards), the key local ServiceAccount tokens are signed
// with, and control-plane.json — the addresses `tsmesh run` reads to reach the running control
// plane. Default location: $XDG_STATE_HOME/tsmesh or ~/.local/state/tsmesh.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createIntermediateCertificate,
  createRootCertificate,
  formatPrivateKey,
  MeshError,
  MeshErrorCode,
} from '@tsmesh/core';

export const TRUST_DOMAIN = 'cluster.local';
export const CONTROL_PLANE_NAMESPACE = 'linkerd';
export const CONTROL_PLANE_FILE = 'control-plane.json';

/** A gRPC service of the local control plane: host:port and the identity Linkerd names it by. */
export interface LocalServiceAddress {
  readonly addr: string;
  readonly name: string;
}

/** What `tsmesh up` publishes in control-plane.json. */
export interface ControlPlaneInfo {
  readonly pid: number;
  readonly startedAt: string;
  readonly manifestDir: string;
  readonly trustDomain: string;
  readonly controlPlaneNamespace: string;
  /** The local API (register workloads, list pods, status): http://127.0.0.1:PORT. */
  readonly api: string;
  readonly identity: LocalServiceAddress;
  readonly destination?: LocalServiceAddress;
  readonly policy?: LocalServiceAddress;
}

export interface StatePaths {
  readonly root: string;
  readonly identityDir: string;
  readonly anchorCert: string;
  readonly anchorKey: string;
  readonly issuerDir: string;
  readonly tokenKey: string;
  readonly workloadsDir: string;
  readonly controlPlane: string;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'tsmesh');
}

export function statePaths(dir: string): StatePaths {
  const root = resolve(dir);
  const identityDir = join(root, 'identity');
  return {
    root,
    identityDir,
    anchorCert: join(identityDir, 'ca.crt'),
    anchorKey: join(identityDir, 'ca.key'),
    // The issuer directory in the layout tsmesh-identity --issuer-dir reads (tls.crt, tls.key, ca.crt).
    issuerDir: join(identityDir, 'issuer'),
    tokenKey: join(identityDir, 'token.key'),
    workloadsDir: join(root, 'workloads'),
    controlPlane: join(root, CONTROL_PLANE_FILE),
  };
}

export interface TrustMaterial {
  readonly trustAnchorsPem: string;
  readonly tokenKey: KeyObject;
  /** True when this call created the anchor and issuer. */
  readonly created: boolean;
}

const writePrivate = (path: string, text: string) => writeFileSync(path, text, { mode: 0o600 });

/** Creates the trust anchor, issuer and token key on first use; reads them afterwards. */
export function ensureTrustMaterial(paths: StatePaths): TrustMaterial {
  mkdirSync(paths.issuerDir, { recursive: true, mode: 0o700 });
  let created = false;
  if (!existsSync(paths.anchorCert) || !existsSync(join(paths.issuerDir, 'tls.crt'))) {
    const root = createRootCertificate({ commonName: `root.${CONTROL_PLANE_NAMESPACE}.${TRUST_DOMAIN}` });
    const issuer = createIntermediateCertificate({
      issuer: root,
      commonName: `identity.${CONTROL_PLANE_NAMESPACE}.${TRUST_DOMAIN}`,
    });
    writeFileSync(paths.anchorCert, root.certificate.pem);
    writePrivate(paths.anchorKey, formatPrivateKey(root.privateKey));
    writeFileSync(join(paths.issuerDir, 'ca.crt'), root.certificate.pem);
    writePrivate(join(paths.issuerDir, 'tls.key'), formatPrivateKey(issuer.privateKey));
    // Written last: its presence marks a complete issuer.
    writeFileSync(join(paths.issuerDir, 'tls.crt'), issuer.certificate.pem);
    created = true;
  }
  if (!existsSync(paths.tokenKey)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writePrivate(paths.tokenKey, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  }
  return {
    trustAnchorsPem: readFileSync(paths.anchorCert, 'utf8'),
    tokenKey: createPrivateKey(readFileSync(paths.tokenKey, 'utf8')),
    created,
  };
}

export function writeControlPlaneInfo(paths: StatePaths, info: ControlPlaneInfo): void {
  mkdirSync(paths.root, { recursive: true });
  // Write then rename, so a reader never sees half a file.
  const tmp = `${paths.controlPlane}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(tmp, paths.controlPlane);
}

/** The running control plane's addresses; a clear error when `tsmesh up` is not running. */
export function readControlPlaneInfo(paths: StatePaths): ControlPlaneInfo {
  let text: string;
  try {
    text = readFileSync(paths.controlPlane, 'utf8');
  } catch {
    throw new MeshError(MeshErrorCode.Unavailable, 'no local control plane is running', {
      where: paths.controlPlane,
      hint: `start one with \`tsmesh up -f DIR --state ${paths.root}\``,
    });
  }
  try {
    return JSON.parse(text) as ControlPlaneInfo;
  } catch (err) {
    throw new MeshError(MeshErrorCode.Config, 'control-plane.json is not JSON', {
      where: paths.controlPlane,
      hint: 'restart `tsmesh up`, which rewrites it',
      cause: err,
    });
  }
}
