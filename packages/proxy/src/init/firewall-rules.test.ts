import { describe, expect, it } from 'vitest';
import {
  buildFirewallCommands,
  firewallBinaries,
  formatCommand,
  hasProxyInitRules,
  multiportGroups,
} from './firewall-rules.js';
import { parseInitArgs } from './init-options.js';

const lines = (argv: string[], family: 4 | 6 = 4) =>
  buildFirewallCommands(parseInitArgs(argv), { family, runId: '1700000000' }).map(formatCommand);

// The injector's linkerd-init arguments (linkerd-compat.md §4.5).
const INJECTED = [
  '--firewall-bin-path',
  'iptables-nft',
  '--firewall-save-bin-path',
  'iptables-nft-save',
  '--ipv6=false',
  '--incoming-proxy-port',
  '4143',
  '--outgoing-proxy-port',
  '4140',
  '--proxy-uid',
  '2102',
  '--inbound-ports-to-ignore',
  '4190,4191,4567,4568',
  '--outbound-ports-to-ignore',
  '4567,4568',
];

describe('buildFirewallCommands', () => {
  it('writes linkerd-init rules for the injected arguments, in order', () => {
    expect(lines([...INJECTED, '--subnets-to-ignore', '198.18.5.0/24'])).toEqual([
      `iptables-nft -t nat -N PROXY_INIT_REDIRECT -m comment --comment proxy-init/redirect-common-chain/1700000000`,
      `iptables-nft -t nat -A PROXY_INIT_REDIRECT -p tcp --match multiport --dports 4190,4191,4567,4568 -j RETURN -m comment --comment proxy-init/ignore-port-4190,4191,4567,4568/1700000000`,
      `iptables-nft -t nat -A PROXY_INIT_REDIRECT -p all -j RETURN -s 198.18.5.0/24 -m comment --comment proxy-init/ignore-subnet-198.18.5.0/24/1700000000`,
      `iptables-nft -t nat -A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port 4143 -m comment --comment proxy-init/redirect-all-incoming-to-proxy-port/1700000000`,
      `iptables-nft -t nat -A PREROUTING -j PROXY_INIT_REDIRECT -m comment --comment proxy-init/install-proxy-init-prerouting/1700000000`,
      `iptables-nft -t nat -N PROXY_INIT_OUTPUT -m comment --comment proxy-init/redirect-common-chain/1700000000`,
      `iptables-nft -t nat -A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -j RETURN -m comment --comment proxy-init/ignore-proxy-user-id/1700000000`,
      `iptables-nft -t nat -A PROXY_INIT_OUTPUT -o lo -j RETURN -m comment --comment proxy-init/ignore-loopback/1700000000`,
      `iptables-nft -t nat -A PROXY_INIT_OUTPUT -p tcp --match multiport --dports 4567,4568 -j RETURN -m comment --comment proxy-init/ignore-port-4567,4568/1700000000`,
      `iptables-nft -t nat -A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-port 4140 -m comment --comment proxy-init/redirect-all-outgoing-to-proxy-port/1700000000`,
      `iptables-nft -t nat -A OUTPUT -j PROXY_INIT_OUTPUT -m comment --comment proxy-init/install-proxy-init-output/1700000000`,
    ]);
  });

  it('redirects only the listed ports with --ports-to-redirect, and skips the gid when given', () => {
    const out = lines(['-r', '8080,9090', '-g', '2103', '-u', '0']);
    expect(out.filter((l) => l.includes('REDIRECT --to-port 4143'))).toEqual([
      'iptables-legacy -t nat -A PROXY_INIT_REDIRECT -p tcp --destination-port 8080 -j REDIRECT --to-port 4143 -m comment --comment proxy-init/redirect-port-8080-to-proxy-port/1700000000',
      'iptables-legacy -t nat -A PROXY_INIT_REDIRECT -p tcp --destination-port 9090 -j REDIRECT --to-port 4143 -m comment --comment proxy-init/redirect-port-9090-to-proxy-port/1700000000',
    ]);
    expect(out.some((l) => l.includes('--uid-owner'))).toBe(false);
    expect(out.some((l) => l.includes('--gid-owner 2103 -j RETURN'))).toBe(true);
  });

  it('writes IPv6 rules with ip6tables and only IPv6 subnets', () => {
    const out = lines(['--iptables-mode', 'nft', '--subnets-to-ignore', '198.18.0.0/15,fd00::/8'], 6);
    expect(out.every((l) => l.startsWith('ip6tables-nft '))).toBe(true);
    expect(out.filter((l) => l.includes('-s '))).toEqual([
      'ip6tables-nft -t nat -A PROXY_INIT_REDIRECT -p all -j RETURN -s fd00::/8 -m comment --comment proxy-init/ignore-subnet-fd00::/8/1700000000',
    ]);
  });

  it('appends -w with --use-wait-flag', () => {
    expect(lines(['-w']).every((l) => / -w$/.test(l))).toBe(true);
  });
});

describe('firewallBinaries', () => {
  it('follows --iptables-mode over the bin paths, and derives ip6tables from a path', () => {
    const mode = parseInitArgs(['--iptables-mode=plain', '--firewall-bin-path', '/x/iptables']);
    expect(firewallBinaries(mode, 4)).toEqual({ iptables: 'iptables', save: 'iptables-save' });
    const paths = parseInitArgs([
      '--firewall-bin-path',
      '/usr/sbin/iptables-nft',
      '--firewall-save-bin-path',
      '/usr/sbin/iptables-nft-save',
    ]);
    expect(firewallBinaries(paths, 6)).toEqual({
      iptables: '/usr/sbin/ip6tables-nft',
      save: '/usr/sbin/ip6tables-nft-save',
    });
    expect(firewallBinaries(parseInitArgs([]), 4)).toEqual({
      iptables: 'iptables-legacy',
      save: 'iptables-legacy-save',
    });
  });
});

describe('multiportGroups', () => {
  it('keeps at most 15 port references per rule, a range counting two', () => {
    const ports = Array.from({ length: 20 }, (_, i) => ({ from: 1000 + i, to: 1000 + i }));
    expect(multiportGroups(ports).map((g) => g.length)).toEqual([15, 5]);
    const ranges = [
      ...Array.from({ length: 14 }, (_, i) => ({ from: 2000 + i, to: 2000 + i })),
      { from: 5000, to: 5100 },
    ];
    expect(multiportGroups(ranges)).toEqual([ranges.slice(0, 14).map((r) => String(r.from)), ['5000:5100']]);
  });
});

describe('hasProxyInitRules', () => {
  it('sees rules in our chains, not an empty chain declaration', () => {
    expect(hasProxyInitRules('*nat\n:PROXY_INIT_OUTPUT - [0:0]\nCOMMIT\n')).toBe(false);
    expect(hasProxyInitRules('-A PROXY_INIT_OUTPUT -o lo -j RETURN\n')).toBe(true);
  });
});
