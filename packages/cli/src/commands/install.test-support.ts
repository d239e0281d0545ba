// Shared by the install unit tests and the integration tests: flags with fixed certificates (so
// the output is deterministic) and an in-process CLI run.
import { fileURLToPath } from 'node:url';
import { createProgram } from '../program.js';
import { VERSION } from '../version.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/install/', import.meta.url));

/** Flags that make the output deterministic. */
export const FIXED_CERTS = [
  '--identity-trust-anchors-file',
  `${fixtures}ca.crt`,
  '--identity-issuer-certificate-file',
  `${fixtures}issuer.crt`,
  '--identity-issuer-key-file',
  `${fixtures}issuer.key`,
  '--values',
  `${fixtures}webhook-certs.values.json`,
  '--set',
  'linkerdVersion=test-version',
];

export async function runCli(args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = createProgram({ out: (t) => (out += t), err: (t) => (err += t) });
  let exitCode = 0;
  try {
    await program.parseAsync(['node', 'tsmesh', ...args]);
  } catch (e) {
    exitCode = (e as { exitCode?: number }).exitCode ?? 1;
  }
  return {
    out: out.replaceAll(VERSION, '<VERSION>'),
    err: err.replaceAll(fixtures, '<fixtures>/'),
    exitCode,
  };
}
