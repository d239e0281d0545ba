// Test support: run the real `openssl` binary in a scratch directory, and make CA material the
// way Linkerd's docs make it with step-cli (root-ca / intermediate-ca profiles), but with openssl.
// Used only by *.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** openssl extension sections matching step-cli's profiles and Linkerd's leaves. */
export const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root_ca]
basicConstraints = critical, CA:true, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate_ca]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[name_constrained_ca]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
nameConstraints = critical, permitted;DNS:.emojivoto.serviceaccount.identity.linkerd.cluster.local
[not_a_ca]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

/** A scratch directory with an openssl runner; call `remove()` when done. */
export class OpensslDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'tsmesh-identity-'));

  constructor() {
    writeFileSync(this.path('openssl.cnf'), OPENSSL_CONFIG);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  write(name: string, content: string | Uint8Array): string {
    writeFileSync(this.path(name), content);
    return this.path(name);
  }

  read(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }

  readBytes(name: string): Uint8Array {
    return new Uint8Array(readFileSync(this.path(name)));
  }

  /** Runs openssl; returns status and output without throwing. */
  tryRun(args: readonly string[]): OpensslResult {
    const result = spawnSync('openssl', args, { cwd: this.dir, encoding: 'utf8', timeout: 30_000 });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Runs openssl; throws with its stderr when it fails. */
  run(args: readonly string[]): string {
    const result = this.tryRun(args);
    if (result.status !== 0)
      throw new Error(`openssl ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
    return result.stdout;
  }

  /** `openssl ecparam -genkey -name prime256v1`: SEC1 "EC PRIVATE KEY" after an "EC PARAMETERS" block. */
  ecKey(name: string, curve = 'prime256v1'): string {
    this.run(['ecparam', '-genkey', '-name', curve, '-out', name]);
    return this.read(name);
  }

  /** `openssl genrsa 2048`: PKCS#8, or PKCS#1 "RSA PRIVATE KEY" with `traditional`. */
  rsaKey(name: string, traditional = false): string {
    this.run(['genrsa', ...(traditional ? ['-traditional'] : []), '-out', name, '2048']);
    return this.read(name);
  }

  /** A self-signed root with the root_ca profile (`openssl req -x509`). */
  root(name: string, key: string, commonName: string, days = 3650): string {
    this.run([
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-sha256',
      '-days',
      String(days),
      '-subj',
      `/CN=${commonName}`,
      '-config',
      'openssl.cnf',
      '-extensions',
      'root_ca',
      '-out',
      name,
    ]);
    return this.read(name);
  }

  /** A certificate for `key` signed by `caCert`/`caKey` with one of the config's extension sections. */
  signed(
    name: string,
    key: string,
    commonName: string,
    caCert: string,
    caKey: string,
    section = 'intermediate_ca',
    days = 365,
  ): string {
    this.run([
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      `/CN=${commonName}`,
      '-config',
      'openssl.cnf',
      '-out',
      `${name}.csr`,
    ]);
    this.run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      caCert,
      '-CAkey',
      caKey,
      '-sha256',
      '-days',
      String(days),
      '-set_serial',
      `0x${Date.now().toString(16)}`,
      '-extfile',
      'openssl.cnf',
      '-extensions',
      section,
      '-out',
      name,
    ]);
    return this.read(name);
  }

  /** `openssl verify` of a leaf against a root with untrusted intermediates, strictly (RFC 5280). */
  verify(root: string, leaf: string, untrusted?: string, extra: readonly string[] = []): OpensslResult {
    return this.tryRun([
      'verify',
      '-x509_strict',
      ...extra,
      '-CAfile',
      root,
      ...(untrusted ? ['-untrusted', untrusted] : []),
      leaf,
    ]);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
