// The certificates of a benchmarked proxy pair, made by openssl in DIR: a P-256 trust anchor
// (ca.crt) and one leaf per side (a: the client side, b: the server side) whose only SAN is a
// Linkerd identity name, usable as client and server certificate; NAME.crt, NAME.key and NAME.pem
// (both, for HAProxy). Used by proxy-bench.mjs and raw-h1/smoke.mjs.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const A_ID = 'client.bench.serviceaccount.identity.linkerd.cluster.local';
export const B_ID = 'server.bench.serviceaccount.identity.linkerd.cluster.local';

export function makePairCerts(dir) {
  const ossl = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: 'pipe' });
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  ossl(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=identity.linkerd.cluster.local',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'ca.crt',
  );
  for (const [name, id] of [
    ['a', A_ID],
    ['b', B_ID],
  ]) {
    ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
    ossl('req', '-new', '-key', `${name}.key`, '-subj', '/', '-out', `${name}.csr`);
    writeFileSync(
      join(dir, `${name}.ext`),
      `subjectAltName=DNS:${id}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`,
    );
    ossl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      name === 'a' ? '2' : '3',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
    writeFileSync(
      join(dir, `${name}.pem`),
      readFileSync(join(dir, `${name}.crt`), 'utf8') + readFileSync(join(dir, `${name}.key`), 'utf8'),
    );
  }
}
