// The command line of `tsmesh-proxy init`, parsed as linkerd2-proxy-init parses its own (cobra /
// pflag): `--flag value` or `--flag=value`, the same short flags, list flags that take comma
// lists and may repeat, booleans that take an optional `=true|false`. A bad value is a MeshError
// naming the flag and what it accepts.
import { isIP } from 'node:net';
import { DefaultPort, MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';

export type IptablesMode = 'legacy' | 'nft' | 'plain';

/** A port or an inclusive range, as given on the command line (`8080`, `4000-4100`). */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface InitOptions {
  readonly incomingProxyPort: number;
  readonly outgoingProxyPort: number;
  /** Traffic from this uid is not redirected (the proxy's own); -1: none. */
  readonly proxyUid: number;
  /** Traffic from this gid is not redirected; -1: none. */
  readonly proxyGid: number;
  /** Inbound ports to redirect; empty: all of them (redirect-all mode). */
  readonly portsToRedirect: readonly number[];
  readonly inboundPortsToIgnore: readonly PortRange[];
  readonly outboundPortsToIgnore: readonly PortRange[];
  /** CIDRs whose inbound traffic is not redirected. */
  readonly subnetsToIgnore: readonly string[];
  /** Print the commands without running them (`--simulate`, also `--dry-run`). */
  readonly simulate: boolean;
  /** A network namespace path to run the commands in (through nsenter). */
  readonly netns: string | undefined;
  /** Append `-w` (wait for the xtables lock). */
  readonly useWaitFlag: boolean;
  readonly timeoutCloseWaitSecs: number;
  /** Also write the rules with ip6tables. */
  readonly ipv6: boolean;
  readonly iptablesMode: IptablesMode | undefined;
  readonly firewallBinPath: string | undefined;
  readonly firewallSaveBinPath: string | undefined;
  readonly logFormat: 'plain' | 'json';
  readonly logLevel: string;
}

export const INIT_DEFAULTS: InitOptions = Object.freeze({
  incomingProxyPort: DefaultPort.Inbound,
  outgoingProxyPort: DefaultPort.Outbound,
  proxyUid: 2102,
  proxyGid: -1,
  portsToRedirect: [],
  inboundPortsToIgnore: [],
  outboundPortsToIgnore: [],
  subnetsToIgnore: [],
  simulate: false,
  netns: undefined,
  useWaitFlag: false,
  timeoutCloseWaitSecs: 0,
  ipv6: true,
  iptablesMode: undefined,
  firewallBinPath: undefined,
  firewallSaveBinPath: undefined,
  logFormat: 'plain',
  logLevel: 'info',
});

type Kind = 'int' | 'port' | 'bool' | 'string' | 'ports' | 'portRanges' | 'cidrs' | 'mode' | 'format';

interface FlagSpec {
  readonly key: keyof InitOptions;
  readonly kind: Kind;
  readonly short?: string;
}

const FLAGS: Readonly<Record<string, FlagSpec>> = {
  'incoming-proxy-port': { key: 'incomingProxyPort', kind: 'port', short: 'p' },
  'outgoing-proxy-port': { key: 'outgoingProxyPort', kind: 'port', short: 'o' },
  'proxy-uid': { key: 'proxyUid', kind: 'int', short: 'u' },
  'proxy-gid': { key: 'proxyGid', kind: 'int', short: 'g' },
  'ports-to-redirect': { key: 'portsToRedirect', kind: 'ports', short: 'r' },
  'inbound-ports-to-ignore': { key: 'inboundPortsToIgnore', kind: 'portRanges' },
  'outbound-ports-to-ignore': { key: 'outboundPortsToIgnore', kind: 'portRanges' },
  'subnets-to-ignore': { key: 'subnetsToIgnore', kind: 'cidrs' },
  simulate: { key: 'simulate', kind: 'bool' },
  'dry-run': { key: 'simulate', kind: 'bool' },
  netns: { key: 'netns', kind: 'string' },
  'use-wait-flag': { key: 'useWaitFlag', kind: 'bool', short: 'w' },
  'timeout-close-wait-secs': { key: 'timeoutCloseWaitSecs', kind: 'int' },
  ipv6: { key: 'ipv6', kind: 'bool' },
  'iptables-mode': { key: 'iptablesMode', kind: 'mode' },
  'firewall-bin-path': { key: 'firewallBinPath', kind: 'string' },
  'firewall-save-bin-path': { key: 'firewallSaveBinPath', kind: 'string' },
  'log-format': { key: 'logFormat', kind: 'format' },
  'log-level': { key: 'logLevel', kind: 'string' },
};

const SHORT = new Map(
  Object.entries(FLAGS)
    .filter(([, s]) => s.short !== undefined)
    .map(([long, s]) => [s.short as string, long]),
);

const LIST_KINDS: ReadonlySet<Kind> = new Set(['ports', 'portRanges', 'cidrs']);

function bad(flag: string, value: string, accepts: string): MeshError {
  return new MeshError(MeshErrorCode.Config, `invalid value ${JSON.stringify(value)}`, {
    where: `--${flag}`,
    hint: `expected ${accepts}`,
  });
}

function port(flag: string, raw: string): number {
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 65535)) throw bad(flag, raw, 'a TCP port number (1-65535)');
  return n;
}

/** `80`, `4000-4100` (linkerd accepts both); a range must be low-high. */
export function parsePortRange(flag: string, raw: string): PortRange {
  const m = /^(\d+)(?:-(\d+))?$/.exec(raw.trim());
  if (!m) throw bad(flag, raw, 'ports or inclusive ranges such as 4190,4191,5000-5100');
  const from = port(flag, m[1] as string);
  const to = m[2] === undefined ? from : port(flag, m[2]);
  if (to < from) throw bad(flag, raw, 'a range whose first port is not above its last');
  return { from, to };
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function isCidr(raw: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(raw);
  if (!m) return false;
  const family = isIP(m[1] as string);
  const bits = Number(m[2]);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}

function convert(flag: string, kind: Kind, raw: string): unknown {
  switch (kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw bad(flag, raw, 'an integer');
      return Number(raw);
    }
    case 'port':
      return port(flag, raw);
    case 'bool': {
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw bad(flag, raw, 'true or false');
    }
    case 'string':
      return raw;
    case 'ports':
      return splitList(raw).map((p) => port(flag, p));
    case 'portRanges':
      return splitList(raw).map((p) => parsePortRange(flag, p));
    case 'cidrs':
      return splitList(raw).map((c) => {
        if (!isCidr(c)) throw bad(flag, c, 'CIDR subnets such as 198.18.0.0/15 or fd00::/8');
        return c;
      });
    case 'mode': {
      if (raw === 'legacy' || raw === 'nft' || raw === 'plain') return raw;
      throw bad(flag, raw, '"legacy", "nft" or "plain"');
    }
    case 'format': {
      if (raw === 'plain' || raw === 'json') return raw;
      throw bad(flag, raw, '"plain" or "json"');
    }
  }
}

/** Parses `tsmesh-proxy init` arguments (after the `init` word). */
export function parseInitArgs(argv: readonly string[]): InitOptions {
  const out: Record<string, unknown> = { ...INIT_DEFAULTS };
  const seenLists = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (/^-[a-z]$/.test(arg)) {
      name = SHORT.get(arg.slice(1));
    } else if (/^-[a-z]=/.test(arg)) {
      name = SHORT.get(arg.slice(1, 2));
      inline = arg.slice(3);
    }
    const spec = name === undefined ? undefined : FLAGS[name];
    if (name === undefined || spec === undefined) {
      throw new MeshError(MeshErrorCode.Config, `unknown flag ${JSON.stringify(arg)}`, {
        where: 'tsmesh-proxy init',
        hint: `known flags: ${Object.keys(FLAGS)
          .map((f) => `--${f}`)
          .join(', ')}`,
      });
    }
    let raw = inline;
    if (raw === undefined) {
      if (spec.kind === 'bool') raw = 'true';
      else {
        raw = argv[++i];
        if (raw === undefined) {
          throw new MeshError(MeshErrorCode.Config, 'needs a value', { where: `--${name}` });
        }
      }
    }
    const value = convert(name, spec.kind, raw);
    if (LIST_KINDS.has(spec.kind)) {
      // pflag's slice flags: the first use replaces the default, later uses append.
      const prior = seenLists.has(spec.key) ? (out[spec.key] as unknown[]) : [];
      out[spec.key] = [...prior, ...(value as unknown[])];
      seenLists.add(spec.key);
    } else out[spec.key] = value;
  }
  return Object.freeze(out) as unknown as InitOptions;
}
