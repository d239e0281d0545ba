import { KubeConfig } from '@kubernetes/client-node';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addGlobalClusterOptions, globalClusterFlags, resolveNamespace } from './global-options.js';

/** A root with the global options and two subcommands: one declaring its own -n/--context, one not. */
function program(seen: { own?: Record<string, unknown>; global?: Record<string, unknown> }) {
  const root = new Command('tsmesh').exitOverride();
  addGlobalClusterOptions(root);
  root
    .command('own')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--context <name>')
    .action((flags: Record<string, unknown>) => void (seen.own = { ...flags }));
  root.command('plain').action((_flags, cmd: Command) => void (seen.global = { ...globalClusterFlags(cmd) }));
  return root;
}

describe('global --kubeconfig, --context, -n', () => {
  it('reach a subcommand that declares the same options, before or after its name', async () => {
    const seen: { own?: Record<string, unknown> } = {};
    await program(seen).parseAsync(['node', 'tsmesh', '-n', 'shop', 'own', '--context', 'east']);
    expect(seen.own).toEqual({ namespace: 'shop', context: 'east' });
    await program(seen).parseAsync(['node', 'tsmesh', 'own']);
    expect(seen.own).toEqual({ namespace: 'default' });
  });

  it('are read through optsWithGlobals by subcommands that do not declare them', async () => {
    const seen: { global?: Record<string, unknown> } = {};
    await program(seen).parseAsync(['node', 'tsmesh', 'plain', '--kubeconfig', '/k', '--namespace=ns1']);
    expect(seen.global).toEqual({ kubeconfig: '/k', context: undefined, namespace: 'ns1' });
  });

  it("default namespace: -n, else the context's, else default", () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'u' }],
      contexts: [
        { name: 'with', cluster: 'c', user: 'u', namespace: 'shop' },
        { name: 'without', cluster: 'c', user: 'u' },
      ],
      currentContext: 'with',
    });
    expect(resolveNamespace({}, kc)).toBe('shop');
    expect(resolveNamespace({ namespace: 'x' }, kc)).toBe('x');
    kc.setCurrentContext('without');
    expect(resolveNamespace({}, kc)).toBe('default');
  });
});
