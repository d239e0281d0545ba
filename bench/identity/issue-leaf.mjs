#!/usr/bin/env node
// Where a Certify call's CPU goes, in-process on one core: the identity library's CSR verification
// and leaf issuance, against a bare ECDSA P-256 signature. Separates the service's own overhead
// (gRPC, token cache) from the cost of making a certificate.
// Run: `taskset -c 0 node bench/identity/issue-leaf.mjs` (after building @tsmesh/core).
import { sign } from 'node:crypto';
import {
  createCertificateRequest,
  createIntermediateCertificate,
  createRootCertificate,
  generateKeyPair,
  issueLeafCertificate,
  verifyCertificateRequest,
} from '@tsmesh/core';

const root = createRootCertificate();
const issuer = createIntermediateCertificate({ issuer: root });
const identity = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const csr = createCertificateRequest({
  identity,
  privateKey: generateKeyPair().privateKey,
  commonName: false,
}).der;
const { publicKey } = verifyCertificateRequest(csr, { identity }).request;
const tbs = Buffer.alloc(400);

function measure(name, fn, n = 2000) {
  for (let i = 0; i < 200; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  const ms = (performance.now() - t0) / n;
  console.log(`${name.padEnd(44)} ${ms.toFixed(3)} ms  ${(1000 / ms).toFixed(0).padStart(6)} /s`);
}

console.log(`node ${process.version}`);
measure('verifyCertificateRequest', () => verifyCertificateRequest(csr, { identity }));
measure('issueLeafCertificate (from the CSR)', () => issueLeafCertificate({ issuer, csr, identity }));
measure('issueLeafCertificate (verified public key)', () =>
  issueLeafCertificate({ issuer, publicKey, identity }),
);
measure('ECDSA P-256 sign of 400 bytes (node:crypto)', () => sign('sha256', tbs, issuer.privateKey));
