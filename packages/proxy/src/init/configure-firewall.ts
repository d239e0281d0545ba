// Applies the rules: for IPv4 (and IPv6 with --ipv6), list the nat table; when our chains already
// hold rules, do nothing (so running twice changes nothing, as linkerd2-proxy-init does);
// otherwise run each command in order and stop at the first failure with its output. With
// --simulate / --dry-run nothing runs: the commands are only printed.
import { execFile } from 'node:child_process';
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';
import type { InitOptions } from './init-options.js';
import {
  buildFirewallCommands,
  firewallBinaries,
  formatCommand,
  hasProxyInitRules,
  type FirewallCommand,
  type IpFamily,
} from './firewall-rules.js';

/** Runs a program and resolves with its stdout; rejects with its stderr on a non-zero exit. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

export const execRunner: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        const detail = missing ? 'not found' : (stderr || err.message).trim();
        reject(
          new MeshError(MeshErrorCode.Unavailable, `${file} ${args.join(' ')} failed: ${detail}`, {
            cause: err,
            hint: missing
              ? 'install iptables (legacy and nft binaries), or choose others with --iptables-mode or --firewall-bin-path'
              : 'tsmesh-proxy init needs root (or NET_ADMIN and NET_RAW) in the pod network namespace',
          }),
        );
      } else resolve(stdout);
    });
  });

export interface ConfigureOptions {
  readonly run?: CommandRunner;
  /** Progress lines (commands run, skips); stdout lines for --dry-run go to `print`. */
  readonly log?: (line: string) => void;
  readonly print?: (line: string) => void;
  /** Comment run id; default unix seconds now, as linkerd. */
  readonly runId?: string;
}

export interface FamilyResult {
  readonly family: IpFamily;
  readonly outcome: 'applied' | 'skipped' | 'simulated';
  readonly commands: readonly FirewallCommand[];
}

/** Wraps a command to run inside --netns (nsenter --net=PATH --, as linkerd does). */
function inNetns(options: InitOptions, command: FirewallCommand): FirewallCommand {
  if (options.netns === undefined) return command;
  return { file: 'nsenter', args: [`--net=${options.netns}`, '--', command.file, ...command.args] };
}

export async function configureFirewall(
  options: InitOptions,
  configure: ConfigureOptions = {},
): Promise<FamilyResult[]> {
  const run = configure.run ?? execRunner;
  const log = configure.log ?? (() => undefined);
  const print = configure.print ?? log;
  const runId = configure.runId ?? String(Math.floor(Date.now() / 1000));
  const exec = (command: FirewallCommand) => {
    const c = inNetns(options, command);
    return run(c.file, c.args);
  };
  const results: FamilyResult[] = [];

  if (options.timeoutCloseWaitSecs !== 0) {
    const sysctl: FirewallCommand = {
      file: 'sysctl',
      args: ['-w', `net.netfilter.nf_conntrack_tcp_timeout_close_wait=${options.timeoutCloseWaitSecs}`],
    };
    if (options.simulate) print(formatCommand(inNetns(options, sysctl)));
    else log((await exec(sysctl)).trim());
  }

  const families: IpFamily[] = options.ipv6 ? [4, 6] : [4];
  for (const family of families) {
    const commands = buildFirewallCommands(options, { family, runId });
    if (options.simulate) {
      for (const c of commands) print(formatCommand(inNetns(options, c)));
      results.push({ family, outcome: 'simulated', commands });
      continue;
    }
    const save: FirewallCommand = { file: firewallBinaries(options, family).save, args: ['-t', 'nat'] };
    const before = await exec(save);
    if (hasProxyInitRules(before)) {
      log(`IPv${family}: skipping iptables setup: found existing PROXY_INIT chains with rules`);
      results.push({ family, outcome: 'skipped', commands: [] });
      continue;
    }
    for (const c of commands) {
      log(formatCommand(inNetns(options, c)));
      await exec(c);
    }
    log(`IPv${family} nat table now:\n${(await exec(save)).trimEnd()}`);
    results.push({ family, outcome: 'applied', commands });
  }
  return results;
}
