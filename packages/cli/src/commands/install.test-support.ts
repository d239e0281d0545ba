// Shared by the install unit tests and the integration tests: flags with fixed certificates (so
// the output is deterministic) and an in-process CLI run.
import { fileURLToPath } from 'node:url';
import { runProgram, type ProgramRun } from './cli.test-support.js';
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

export async function runCli(args: string[]): Promise<ProgramRun> {
  const { out, err, exitCode } = await runProgram(args);
  return {
    out: out.replaceAll(VERSION, '<VERSION>'),
    err: err.replaceAll(fixtures, '<fixtures>/'),
    exitCode,
  };
}
