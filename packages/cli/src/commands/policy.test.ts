import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createProgram } from '../program.js';
import { parsePolicyTarget } from './policy.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/policy/', import.meta.url));
const VOTE_BOT = 'default.emojivoto.serviceaccount.identity.linkerd.cluster.local';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const program = createProgram({ out: (t) => (out += t), err: (t) => (err += t) });
  let exitCode = 0;
  try {
    await program.parseAsync(['node', 'tsmesh', 'policy', 'check', '-f', fixtures, ...args]);
  } catch (e) {
    exitCode = (e as { exitCode?: number }).exitCode ?? 1;
  }
  return { out, err, exitCode };
}

const json = async (args: string[]) => JSON.parse((await run([...args, '-o', 'json'])).out);

describe('tsmesh policy check', () => {
  it('allows the authorized identity on the route and names the rule', async () => {
    const result = await run(['--from', VOTE_BOT, '--to', 'emojivoto/web-1:8080', '--path', '/api/vote']);
    expect(result.exitCode).toBe(0);
    expect(result.out).toMatch(/Decision: +allow/);
    expect(result.out).toMatch(/Route: +HTTPRoute\/web-api/);
    expect(result.out).toMatch(/Authorized by: +AuthorizationPolicy\/web-api-from-vote-bot/);
  });

  it('denies another identity and an unmeshed client with 403', async () => {
    const other = await json([
      '--from',
      'web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
      '--to',
      'emojivoto/web-1:8080',
      '--path',
      '/api/vote',
    ]);
    expect(other).toMatchObject({ decision: 'deny', reason: 'unauthorized', httpStatus: 403 });
    const plain = await json(['--from', '198.18.0.9', '--to', 'emojivoto/web-1:8080', '--path', '/api/vote']);
    expect(plain).toMatchObject({ decision: 'deny', httpStatus: 403 });
  });

  it('answers 404 for a path no route matches', async () => {
    const result = await json(['--from', VOTE_BOT, '--to', 'emojivoto/web-1:8080', '--path', '/other']);
    expect(result).toMatchObject({ decision: 'deny', reason: 'route-not-found', httpStatus: 404 });
  });

  it('reports the bad manifest with its file and keeps answering', async () => {
    const result = await run(['--from', VOTE_BOT, '--to', 'emojivoto/web-1:8080', '--path', '/api/vote']);
    expect(result.err).toMatch(/broken\.yaml/);
    expect(result.out).toMatch(/Decision: +allow/);
  });

  it('rejects a malformed target with a hint', async () => {
    const result = await run(['--from', VOTE_BOT, '--to', 'web-1']);
    expect(result.exitCode).toBe(1);
    expect(result.err).toMatch(/--to: cannot read the target "web-1".*<namespace>\/<pod>:<port>/);
    expect(parsePolicyTarget('web-1:80')).toEqual({ namespace: 'default', workload: 'web-1', port: 80 });
  });
});
