// The usage text of the `tsmesh-proxy` binary and the parsing of its command line.
import { DefaultPort, ProxyEnv } from '@tsmesh/core/data-plane';

export const USAGE = `Usage: tsmesh-proxy [run] [options]
       tsmesh-proxy await [--timeout DURATION] [--port PORT] [--no-shutdown] -- COMMAND [ARGS...]
       tsmesh-proxy init [linkerd-init flags] [--dry-run]

The tsmesh data plane: the proxy beside every workload (Linkerd-2 compatible).

Commands:
  run       Run the proxy (default). Inbound :${DefaultPort.Inbound}, outbound :${DefaultPort.Outbound},
            admin :${DefaultPort.Admin} (/metrics, /ready, /live, /shutdown, /proxy-log-level).
  await     Start COMMAND once the proxy is ready (GET /ready on 127.0.0.1:PORT, default
            ${DefaultPort.Admin}; --timeout default 2m); when it exits, POST /shutdown to the proxy
            (unless --no-shutdown) and exit with COMMAND's status.
  init      Write the iptables rules linkerd-init writes (nat chains PROXY_INIT_REDIRECT and
            PROXY_INIT_OUTPUT): inbound to --incoming-proxy-port (${DefaultPort.Inbound}), outbound to
            --outgoing-proxy-port (${DefaultPort.Outbound}), skipping --proxy-uid (2102) / --proxy-gid,
            --inbound-ports-to-ignore, --outbound-ports-to-ignore, --subnets-to-ignore, loopback.
            --iptables-mode legacy|nft|plain (or --firewall-bin-path / --firewall-save-bin-path),
            --ipv6=false, --ports-to-redirect, --netns PATH, -w, --timeout-close-wait-secs.
            Does nothing when the chains already hold rules. --dry-run (--simulate) prints them.

Options:
  -h, --help      Print this help and exit.
  -V, --version   Print the version and exit.

Configuration is read from Linkerd's environment variables, e.g.
  ${ProxyEnv.InboundListenAddr}   (default 0.0.0.0:${DefaultPort.Inbound})
  ${ProxyEnv.OutboundListenAddr}  (default 127.0.0.1:${DefaultPort.Outbound})
  ${ProxyEnv.AdminListenAddr}     (default 127.0.0.1:${DefaultPort.Admin})
  ${ProxyEnv.InboundPortsDisableProtocolDetection}  (opaque ports)
  ${ProxyEnv.ShutdownGracePeriod}   (e.g. 30s)
A bad value stops start-up with a message naming the variable.
`;

export type Command = 'run' | 'await' | 'init';

export interface ParsedArgs {
  readonly command: Command;
  readonly help: boolean;
  readonly version: boolean;
  /** Arguments after the command and before `--`. */
  readonly options: readonly string[];
  /** Everything after `--` (for `await`: the command to run). */
  readonly rest: readonly string[];
}

const COMMANDS: readonly string[] = ['run', 'await', 'init'];

/** Parses argv (without node and script). Unknown commands are reported by the caller. */
export function parseArgs(argv: readonly string[]): ParsedArgs | { readonly error: string } {
  let command: Command = 'run';
  let help = false;
  let version = false;
  const options: string[] = [];
  const rest: string[] = [];
  let i = 0;
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-')) {
    if (!COMMANDS.includes(first)) return { error: `unknown command "${first}"` };
    command = first as Command;
    i = 1;
  }
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') help = true;
    else if (arg === '-V' || arg === '--version') version = true;
    else options.push(arg);
  }
  return { command, help, version, options, rest };
}
