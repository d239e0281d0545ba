// The viz commands refuse bad arguments with the command, what was wrong and how to fix it,
// before they connect to anything.
import { describe, expect, it } from 'vitest';
import { runCli } from '../install.test-support.js';

describe('viz command arguments', () => {
  it('tap and top refuse bad resources, filters and outputs', async () => {
    const svc = await runCli(['viz', 'tap', 'svc/web', '--state', '/nonexistent']);
    expect(svc.exitCode).toBe(1);
    expect(svc.err).toContain('viz tap: resource: services can only be a --to resource');
    const output = await runCli(['viz', 'tap', 'deploy/web', '-o', 'yaml']);
    expect(output.err).toContain('output format "yaml" not recognized');
    const rps = await runCli(['viz', 'top', 'deploy/web', '--max-rps', '0']);
    expect(rps.err).toContain('bad max-rps "0"');
    const path = await runCli(['viz', 'tap', 'po', '--path', 'api']);
    expect(path.err).toContain('does not start with /');
    const noState = await runCli(['viz', 'tap', 'deploy/web', '--state', '/nonexistent-tsmesh-state']);
    expect(noState.exitCode).toBe(1);
    expect(noState.err).toMatch(/^viz tap: /);
  });

  it('install refuses unknown values; servers refuse bad addresses', async () => {
    const set = await runCli(['viz', 'install', '--set', 'prometheusURL=x']);
    expect(set.err).toContain('unknown value "prometheusURL"');
    for (const cmd of ['tap-server', 'tap-injector']) {
      const r = await runCli(['viz', cmd, '--addr', 'nowhere']);
      expect(r.exitCode).toBe(1);
      expect(r.err).toContain(`viz ${cmd}: --addr: bad address "nowhere"`);
    }
    const authz = await runCli(['viz', 'authz', 'svc/web']);
    expect(authz.err).toContain('authz shows deployments');
  });
});
