import { parseServiceProfileSpec } from '@tsmesh/destination';
import { crdManifests, validateAgainstSchema } from '@tsmesh/kube';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { expectGolden, runProgram } from '../cli.test-support.js';
import { pathToRegex } from './index.js';

const fixtures = new URL('../../../test/fixtures/profile/', import.meta.url);
const goldens = new URL('../../../test/golden/profile/', import.meta.url);
const run = (...args: string[]) => runProgram(args);

/** The output validates against our ServiceProfile CRD schema and the destination's parser. */
function expectValidProfile(yaml: string): Record<string, unknown> {
  const docs = yaml
    .split(/^---$/m)
    .map((d) => parseYaml(d) as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null);
  expect(docs).toHaveLength(1);
  const profile = docs[0]!;
  const crd = crdManifests().find((c) => c.spec.names.kind === 'ServiceProfile')!;
  const version = crd.spec.versions.find((v) => v.name === 'v1alpha2')!;
  expect(validateAgainstSchema(profile, version.schema!.openAPIV3Schema, { prune: false })).toEqual([]);
  const parsed = parseServiceProfileSpec(profile.spec);
  expect(parsed.ok ? [] : parsed.problems).toEqual([]);
  return profile;
}

describe('tsmesh profile', () => {
  it('--open-api: a route per operation, path parameters as one segment, response classes', async () => {
    const r = await run(
      'profile',
      '-n',
      'books',
      '--open-api',
      new URL('books.swagger.yaml', fixtures).pathname,
      'books-svc',
    );
    expect(r.err).toBe('');
    expectGolden(goldens, 'books-openapi.yaml', r.out);
    const profile = expectValidProfile(r.out);
    expect(profile.metadata).toEqual({ name: 'books-svc.books.svc.cluster.local', namespace: 'books' });
    const routes = (profile.spec as { routes: { name: string; condition: { pathRegex: string } }[] }).routes;
    expect(routes.map((x) => x.name)).toEqual([
      'PUT /authors/{author}/books/{id}',
      'GET /books',
      'POST /books',
      'DELETE /books/{id}.json',
      'GET /books/{id}.json',
    ]);
    const regex = new RegExp(`^${routes[3]!.condition.pathRegex}$`);
    expect(regex.test('/books/42.json')).toBe(true);
    expect(regex.test('/books/4/2.json')).toBe(false);
    expect(regex.test('/books/42xjson')).toBe(false);
  });

  it('--proto: POST /package.Service/Method per rpc, retryable by idempotency level', async () => {
    const r = await run(
      'profile',
      '-n',
      'emojivoto',
      '--proto',
      new URL('voting.proto', fixtures).pathname,
      'voting-svc',
    );
    expect(r.err).toBe('');
    expectGolden(goldens, 'voting-proto.yaml', r.out);
    const profile = expectValidProfile(r.out);
    const routes = (profile.spec as { routes: Record<string, unknown>[] }).routes;
    expect(routes).toContainEqual({
      name: 'Results',
      condition: { method: 'POST', pathRegex: '/emojivoto\\.v1\\.VotingService/Results' },
      isRetryable: true,
    });
    expect(routes).toContainEqual({
      name: 'Reset',
      condition: { method: 'POST', pathRegex: '/emojivoto\\.v1\\.Admin/Reset' },
    });
    expect(routes).toHaveLength(4);
  });

  it('--template: a commented profile that is itself valid; the namespace defaults to default', async () => {
    const r = await run('profile', '--template', 'web-svc');
    expectGolden(goldens, 'template.yaml', r.out);
    const profile = expectValidProfile(r.out);
    expect(profile.metadata).toEqual({ name: 'web-svc.default.svc.cluster.local', namespace: 'default' });
  });

  it('reads - from standard input', async () => {
    let out = '';
    const { registerProfileCommand } = await import('./index.js');
    const { Command } = await import('commander');
    const program = new Command('tsmesh').exitOverride();
    program.option('-n, --namespace <ns>');
    registerProfileCommand(program, {
      out: (t) => (out += t),
      err: () => undefined,
      readStdin: () => 'syntax = "proto3"; service S { rpc M (E) returns (E); } message E {}',
    });
    await program.parseAsync(['node', 'tsmesh', 'profile', '--proto', '-', 'svc']);
    expect(out).toContain('pathRegex: /S/M');
  });

  it('errors name the problem, where it is and what to do', async () => {
    const none = await run('profile', 'web');
    expect(none.exitCode).toBe(1);
    expect(none.err).toContain('give exactly one of --template, --open-api or --proto');
    const both = await run('profile', '--template', '--proto', 'x.proto', 'web');
    expect(both.err).toContain('exactly one');
    const name = await run('profile', '--template', 'Web_Svc');
    expect(name.err).toContain('SERVICE: invalid service "Web_Svc"');
    const missing = await run('profile', '--open-api', '/nonexistent/api.yaml', 'web');
    expect(missing.err).toContain('--open-api: cannot read /nonexistent/api.yaml');
    const notApi = await run('profile', '--open-api', new URL('voting.proto', fixtures).pathname, 'web');
    expect(notApi.err).toMatch(/voting\.proto: document: not (YAML or JSON|an OpenAPI document)/);
    const badProto = await run('profile', '--proto', new URL('books.swagger.yaml', fixtures).pathname, 'web');
    expect(badProto.err).toContain('cannot parse the protobuf definition');
  });

  it('pathToRegex escapes metacharacters and turns {param} into one segment', () => {
    expect(pathToRegex('/a.b/{id}/c+d')).toBe('/a\\.b/[^/]*/c\\+d');
    expect(pathToRegex('/{a}{b}')).toBe('/[^/]*[^/]*');
  });
});
