import { MeshError } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';
import { configureFirewall } from './configure-firewall.js';
import { parseInitArgs } from './init-options.js';

describe('configureFirewall', () => {
  it('says which binary is missing and how to fix it', async () => {
    const options = parseInitArgs(['--ipv6=false', '--firewall-save-bin-path', '/nonexistent/iptables-save']);
    const err = await configureFirewall(options).catch((e: unknown) => e);
    expect(MeshError.is(err) && err.describe()).toMatch(
      /\/nonexistent\/iptables-save -t nat failed: not found.*--iptables-mode or --firewall-bin-path/s,
    );
  });

  it('prints every family with --dry-run and runs nothing', async () => {
    const printed: string[] = [];
    const results = await configureFirewall(parseInitArgs(['--dry-run', '--iptables-mode', 'nft']), {
      print: (line) => printed.push(line),
      run: () => Promise.reject(new Error('nothing may run in a dry run')),
    });
    expect(results.map((r) => [r.family, r.outcome])).toEqual([
      [4, 'simulated'],
      [6, 'simulated'],
    ]);
    expect(printed.filter((l) => l.startsWith('iptables-nft '))).toHaveLength(8);
    expect(printed.filter((l) => l.startsWith('ip6tables-nft '))).toHaveLength(8);
  });
});
