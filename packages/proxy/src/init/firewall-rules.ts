// The iptables commands linkerd2-proxy-init runs, built as data: the same chains
// (PROXY_INIT_REDIRECT from PREROUTING, PROXY_INIT_OUTPUT from OUTPUT, table nat), the same rules
// in the same order, the same `proxy-init/<what>/<run id>` comments, the same 15-port multiport
// limit. Building is pure so it can be unit-tested and printed by --dry-run.
import { isIP } from 'node:net';
import type { InitOptions, IptablesMode, PortRange } from './init-options.js';

export const REDIRECT_CHAIN = 'PROXY_INIT_REDIRECT';
export const OUTPUT_CHAIN = 'PROXY_INIT_OUTPUT';
/** iptables' multiport match takes at most 15 ports (a range counts as two). */
export const MULTIPORT_LIMIT = 15;

export type IpFamily = 4 | 6;

export interface FirewallCommand {
  /** The binary (iptables-legacy, ip6tables-nft, ... or the path given). */
  readonly file: string;
  readonly args: readonly string[];
}

export interface FirewallBinaries {
  readonly iptables: string;
  readonly save: string;
}

const MODE_BINARIES: Record<IptablesMode, Record<IpFamily, FirewallBinaries>> = {
  legacy: {
    4: { iptables: 'iptables-legacy', save: 'iptables-legacy-save' },
    6: { iptables: 'ip6tables-legacy', save: 'ip6tables-legacy-save' },
  },
  nft: {
    4: { iptables: 'iptables-nft', save: 'iptables-nft-save' },
    6: { iptables: 'ip6tables-nft', save: 'ip6tables-nft-save' },
  },
  plain: {
    4: { iptables: 'iptables', save: 'iptables-save' },
    6: { iptables: 'ip6tables', save: 'ip6tables-save' },
  },
};

/** `iptables-nft` → `ip6tables-nft`, also inside a path. */
const toIp6 = (path: string) => path.replace(/(^|\/)iptables([^/]*)$/, '$1ip6tables$2');

/**
 * Which binaries to run. `--iptables-mode` wins over `--firewall-bin-path` /
 * `--firewall-save-bin-path` (as in linkerd2-proxy-init); with neither, legacy.
 */
export function firewallBinaries(options: InitOptions, family: IpFamily): FirewallBinaries {
  if (options.iptablesMode !== undefined) return MODE_BINARIES[options.iptablesMode][family];
  const fallback = MODE_BINARIES.legacy[family];
  const iptables = options.firewallBinPath ?? MODE_BINARIES.legacy[4].iptables;
  const save = options.firewallSaveBinPath ?? MODE_BINARIES.legacy[4].save;
  if (family === 4) return { iptables, save };
  return {
    iptables: options.firewallBinPath ? toIp6(iptables) : fallback.iptables,
    save: options.firewallSaveBinPath ? toIp6(save) : fallback.save,
  };
}

/** Groups ports into multiport lists of at most 15 port references (`a:b` ranges count two). */
export function multiportGroups(ranges: readonly PortRange[]): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  let count = 0;
  for (const { from, to } of ranges) {
    const refs = from === to ? 1 : 2;
    if (count + refs > MULTIPORT_LIMIT) {
      groups.push(current);
      current = [];
      count = 0;
    }
    current.push(from === to ? String(from) : `${from}:${to}`);
    count += refs;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

export interface BuildOptions {
  readonly family: IpFamily;
  /** The run id at the end of every comment (linkerd: unix seconds at start). */
  readonly runId: string;
}

/** The rule commands for one address family, in the order linkerd2-proxy-init runs them. */
export function buildFirewallCommands(options: InitOptions, build: BuildOptions): FirewallCommand[] {
  const { iptables } = firewallBinaries(options, build.family);
  const wait = options.useWaitFlag ? ['-w'] : [];
  // Every rule: `-t nat <rule> -m comment --comment proxy-init/<what>/<run id>`.
  const rule = (what: string, ...args: string[]): FirewallCommand => ({
    file: iptables,
    args: ['-t', 'nat', ...args, '-m', 'comment', '--comment', `proxy-init/${what}/${build.runId}`, ...wait],
  });
  const redirect = (chain: string, port: number, what: string, ...match: string[]) =>
    rule(what, '-A', chain, '-p', 'tcp', ...match, '-j', 'REDIRECT', '--to-port', String(port));
  const ignorePorts = (chain: string, ranges: readonly PortRange[]) =>
    multiportGroups(ranges).map((ports) =>
      rule(
        `ignore-port-${ports.join(',')}`,
        '-A',
        chain,
        '-p',
        'tcp',
        '--match',
        'multiport',
        '--dports',
        ports.join(','),
        '-j',
        'RETURN',
      ),
    );
  const commands: FirewallCommand[] = [];

  // Inbound: everything arriving goes to the proxy's inbound port, except ignored ports/subnets.
  commands.push(rule('redirect-common-chain', '-N', REDIRECT_CHAIN));
  commands.push(...ignorePorts(REDIRECT_CHAIN, options.inboundPortsToIgnore));
  for (const subnet of options.subnetsToIgnore) {
    // A subnet of the other family cannot be written with this binary; linkerd validates the
    // list once for both, so it is simply not applicable here.
    if (isIP(subnet.split('/')[0] as string) !== build.family) continue;
    commands.push(
      rule(`ignore-subnet-${subnet}`, '-A', REDIRECT_CHAIN, '-p', 'all', '-j', 'RETURN', '-s', subnet),
    );
  }
  if (options.portsToRedirect.length === 0) {
    commands.push(redirect(REDIRECT_CHAIN, options.incomingProxyPort, 'redirect-all-incoming-to-proxy-port'));
  } else {
    for (const p of options.portsToRedirect) {
      const what = `redirect-port-${p}-to-proxy-port`;
      commands.push(
        redirect(REDIRECT_CHAIN, options.incomingProxyPort, what, '--destination-port', String(p)),
      );
    }
  }
  commands.push(rule('install-proxy-init-prerouting', '-A', 'PREROUTING', '-j', REDIRECT_CHAIN));

  // Outbound: what the app opens goes to the proxy's outbound port; the proxy's own connections
  // (its uid/gid) and loopback traffic are left alone, so nothing loops.
  commands.push(rule('redirect-common-chain', '-N', OUTPUT_CHAIN));
  if (options.proxyUid > 0) {
    const uid = String(options.proxyUid);
    commands.push(
      rule('ignore-proxy-user-id', '-A', OUTPUT_CHAIN, '-m', 'owner', '--uid-owner', uid, '-j', 'RETURN'),
    );
  }
  if (options.proxyGid > 0) {
    const gid = String(options.proxyGid);
    commands.push(
      rule('ignore-proxy-group-id', '-A', OUTPUT_CHAIN, '-m', 'owner', '--gid-owner', gid, '-j', 'RETURN'),
    );
  }
  commands.push(rule('ignore-loopback', '-A', OUTPUT_CHAIN, '-o', 'lo', '-j', 'RETURN'));
  commands.push(...ignorePorts(OUTPUT_CHAIN, options.outboundPortsToIgnore));
  commands.push(redirect(OUTPUT_CHAIN, options.outgoingProxyPort, 'redirect-all-outgoing-to-proxy-port'));
  commands.push(rule('install-proxy-init-output', '-A', 'OUTPUT', '-j', OUTPUT_CHAIN));
  return commands;
}

/** True when `iptables-save -t nat` output already has rules in our chains (linkerd's check). */
export function hasProxyInitRules(saveOutput: string): boolean {
  return /-A (PROXY_INIT_OUTPUT|PROXY_INIT_REDIRECT)\b/.test(saveOutput);
}

/** A command as one shell-quoted line (for --dry-run and logs). */
export function formatCommand(command: FirewallCommand): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [command.file, ...command.args].map(quote).join(' ');
}
