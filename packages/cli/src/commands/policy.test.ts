import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runProgram } from './cli.test-support.js';
import { parsePolicyTarget } from './policy.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/policy/', import.meta.url));
const VOTE_BOT = 'default.emojivoto.serviceaccount.identity.linkerd.cluster.local';

const run = (args: string[]) => runProgram(['policy', 'check', '-f', fixtures, ...args]);

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
