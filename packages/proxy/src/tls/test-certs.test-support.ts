// Test certificates made by the real openssl CLI: a self-signed ECDSA P-256 trust anchor and leaf
// certificates whose only DNS SAN is a Linkerd identity name, as the identity service issues them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeshCertificate } from './certificate-source.js';

export interface TestCa {
  readonly trustAnchorsPem: string;
  issue(identity: string): MeshCertificate;
  /** Removes the temporary directory. */
  dispose(): void;
}

export function createTestCa(name = 'identity.linkerd.cluster.local'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-proxy-ca-'));
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  ossl(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    `/CN=${name}`,
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'ca.crt',
  );
  let serial = 0;
  return {
    trustAnchorsPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    issue(identity) {
      serial += 1;
      const base = `leaf${serial}`;
      ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${base}.key`);
      ossl('req', '-new', '-key', `${base}.key`, '-subj', '/', '-out', `${base}.csr`);
      writeFileSync(
        join(dir, `${base}.ext`),
        `subjectAltName=DNS:${identity}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`,
      );
      ossl(
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        String(serial + 1000),
        '-days',
        '1',
        '-extfile',
        `${base}.ext`,
        '-out',
        `${base}.crt`,
      );
      return {
        identity,
        certificateChainPem: readFileSync(join(dir, `${base}.crt`), 'utf8'),
        privateKeyPem: readFileSync(join(dir, `${base}.key`), 'utf8'),
      };
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
