// `tsmesh identity …`: make trust anchors and issuers without step or openssl, and inspect
// certificates. Files are named as Linkerd's docs name them after `step certificate create`:
// ca.crt/ca.key for the anchor, issuer.crt/issuer.key for the issuer.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError, type Command } from 'commander';
import {
  createIntermediateCertificate,
  createIssuer,
  createRootCertificate,
  formatPrivateKey,
  parseCertificates,
  parseTrustBundle,
  type Certificate,
} from '@tsmesh/core';
import { parseDuration } from '@tsmesh/identity';
import { describeError, guarded } from './command-errors.js';

function writeFiles(dir: string, files: Record<string, string>, out: (line: string) => void): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    // Private keys are readable by the owner only.
    writeFileSync(join(dir, name), text, { mode: name.endsWith('.key') ? 0o600 : 0o644 });
    out(`wrote ${join(dir, name)}`);
  }
}

export function formatCertificateSummary(cert: Certificate, chainResult?: string): string {
  const lines = [
    `Subject:        ${cert.subject || '(empty)'}`,
    `Issuer:         ${cert.issuer}`,
    `Serial:         ${cert.serialNumber}`,
    `Not before:     ${cert.notBefore.toISOString()}`,
    `Not after:      ${cert.notAfter.toISOString()}`,
    `Key:            ${cert.keyType}`,
    `CA:             ${cert.isCa ? `yes${cert.pathLength === undefined ? '' : ` (pathlen ${cert.pathLength})`}` : 'no'}`,
    `DNS SANs:       ${cert.dnsNames.join(', ') || '-'}`,
    `URI SANs:       ${cert.uris.join(', ') || '-'}`,
    `Key usage:      ${cert.keyUsage?.join(', ') ?? '-'}`,
    `Ext key usage:  ${cert.extKeyUsage?.join(', ') ?? '-'}`,
  ];
  if (chainResult !== undefined) lines.push(`Chains to bundle: ${chainResult}`);
  return `${lines.join('\n')}\n`;
}

export function registerIdentityCommand(
  program: Command,
  out: (line: string) => void,
  err: (line: string) => void = out,
): void {
  const identity = program
    .command('identity')
    .description('Create trust anchors and issuers, and inspect certificates');

  identity
    .command('create-trust-anchor')
    .description('Create a self-signed ECDSA P-256 trust anchor (ca.crt, ca.key)')
    .requiredOption('--out <dir>', 'directory to write ca.crt and ca.key to')
    .option('--common-name <name>', 'subject common name', 'root.linkerd.cluster.local')
    .option('--lifetime <duration>', 'validity, e.g. 87600h', '87600h')
    .action(
      guarded('tsmesh identity', err, (opts: { out: string; commonName: string; lifetime: string }) => {
        const root = createRootCertificate({
          commonName: opts.commonName,
          lifetimeMs: parseDuration(opts.lifetime, '--lifetime'),
        });
        writeFiles(
          opts.out,
          { 'ca.crt': root.certificate.pem, 'ca.key': formatPrivateKey(root.privateKey) },
          out,
        );
      }),
    );

  identity
    .command('create-issuer')
    .description('Create an identity issuer signed by a trust anchor (issuer.crt, issuer.key)')
    .requiredOption('--ca <dir>', 'directory holding ca.crt and ca.key')
    .requiredOption('--out <dir>', 'directory to write issuer.crt and issuer.key to')
    .option('--common-name <name>', 'subject common name', 'identity.linkerd.cluster.local')
    .option('--lifetime <duration>', 'validity, e.g. 8760h', '8760h')
    .action(
      guarded(
        'tsmesh identity',
        err,
        (opts: { ca: string; out: string; commonName: string; lifetime: string }) => {
          const ca = createIssuer({
            certificate: readFileSync(join(opts.ca, 'ca.crt'), 'utf8'),
            privateKey: readFileSync(join(opts.ca, 'ca.key'), 'utf8'),
            where: opts.ca,
          });
          const issuer = createIntermediateCertificate({
            issuer: ca,
            commonName: opts.commonName,
            lifetimeMs: parseDuration(opts.lifetime, '--lifetime'),
          });
          writeFiles(
            opts.out,
            { 'issuer.crt': issuer.certificate.pem, 'issuer.key': formatPrivateKey(issuer.privateKey) },
            out,
          );
        },
      ),
    );

  identity
    .command('inspect')
    .description(
      'Print subject, SANs, issuer and validity of a PEM certificate (chain); check it against a bundle',
    )
    .argument('<file>', "PEM file, or '-' for standard input")
    .option('--bundle <file>', 'trust anchors (PEM) to verify the chain against')
    .option('--identity <name>', 'with --bundle: the identity the leaf must carry')
    .action(
      guarded('tsmesh identity', err, (file: string, opts: { bundle?: string; identity?: string }) => {
        const pem = readFileSync(file === '-' ? 0 : file, 'utf8');
        const [leaf, ...rest] = parseCertificates(pem, { where: file });
        if (!leaf) throw new Error(`${file}: no certificate`);
        let chainResult: string | undefined;
        if (opts.bundle) {
          const bundle = parseTrustBundle(readFileSync(opts.bundle, 'utf8'), { where: opts.bundle });
          try {
            const verified = bundle.verify(leaf, rest, {
              purpose: leaf.isCa ? 'issuer' : 'identity',
              identity: opts.identity,
            });
            chainResult = `yes (anchor ${verified.anchor.subject})`;
          } catch (e) {
            chainResult = `no: ${describeError(e)}`;
          }
        }
        out(formatCertificateSummary(leaf, chainResult));
        for (const cert of rest) out(`\n${formatCertificateSummary(cert)}`);
        if (chainResult?.startsWith('no')) {
          throw new CommanderError(
            1,
            'tsmesh.identity.untrusted',
            'the certificate does not chain to the bundle',
          );
        }
      }),
    );
}
