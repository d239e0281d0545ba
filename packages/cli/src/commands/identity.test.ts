import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProgram } from './cli.test-support.js';

const run = (args: string[]) => runProgram(args, { mergeErr: true });

const dir = mkdtempSync(join(tmpdir(), 'cli-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tsmesh identity', () => {
  it('creates an anchor and an issuer that openssl verifies, and inspects them', async () => {
    expect((await run(['identity', 'create-trust-anchor', '--out', join(dir, 'ca')])).exitCode).toBe(0);
    expect(
      (await run(['identity', 'create-issuer', '--ca', join(dir, 'ca'), '--out', join(dir, 'issuer')]))
        .exitCode,
    ).toBe(0);
    expect(statSync(join(dir, 'issuer', 'issuer.key')).mode & 0o777).toBe(0o600);
    const verified = execFileSync('openssl', [
      'verify',
      '-CAfile',
      join(dir, 'ca', 'ca.crt'),
      join(dir, 'issuer', 'issuer.crt'),
    ]).toString();
    expect(verified).toMatch(/OK/);
    const text = execFileSync('openssl', [
      'x509',
      '-noout',
      '-text',
      '-in',
      join(dir, 'issuer', 'issuer.crt'),
    ]).toString();
    expect(text).toMatch(/CA:TRUE, pathlen:0/);

    const inspected = await run([
      'identity',
      'inspect',
      join(dir, 'issuer', 'issuer.crt'),
      '--bundle',
      join(dir, 'ca', 'ca.crt'),
    ]);
    expect(inspected.exitCode).toBe(0);
    expect(inspected.out).toMatch(/Subject: +CN=identity\.linkerd\.cluster\.local/);
    expect(inspected.out).toMatch(/Issuer: +CN=root\.linkerd\.cluster\.local/);
    expect(inspected.out).toMatch(/Chains to bundle: yes/);
  });

  it('says when a certificate does not chain, and when input is not a certificate', async () => {
    await run(['identity', 'create-trust-anchor', '--out', join(dir, 'other')]);
    await run(['identity', 'create-trust-anchor', '--out', join(dir, 'ca2')]);
    await run(['identity', 'create-issuer', '--ca', join(dir, 'ca2'), '--out', join(dir, 'issuer2')]);
    const res = await run([
      'identity',
      'inspect',
      join(dir, 'issuer2', 'issuer.crt'),
      '--bundle',
      join(dir, 'other', 'ca.crt'),
    ]);
    expect(res.exitCode).toBe(1);
    expect(res.out).toMatch(/Chains to bundle: no: /);
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
    const junk = await run(['identity', 'inspect', join(dir, 'junk.pem')]);
    expect(junk.exitCode).toBe(1);
    expect(junk.out).toMatch(/^tsmesh identity: /m);
    const bad = await run([
      'identity',
      'create-trust-anchor',
      '--out',
      join(dir, 'x'),
      '--lifetime',
      'forever',
    ]);
    expect(bad.exitCode).toBe(1);
    expect(bad.out).toMatch(/--lifetime/);
    expect(readFileSync(join(dir, 'ca', 'ca.crt'), 'utf8')).toMatch(/BEGIN CERTIFICATE/);
  });
});
