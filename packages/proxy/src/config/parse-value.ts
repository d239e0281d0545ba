// Parsers for the value syntaxes of Linkerd's proxy variables. Each returns the value or throws a
// ValueError saying what it accepts; the config reader adds the variable's name.
import { isIP } from 'node:net';
import { DURATION_SYNTAX, parseDurationMs as parseDuration } from '@tsmesh/core/data-plane';

export class ValueError extends Error {
  constructor(readonly accepts: string) {
    super(accepts);
    this.name = 'ValueError';
  }
}

/** `100ms`, `10s`, `2m`, `1h`, `1d`, `1h30m`; also `0` (core's one duration syntax). */
export function parseDurationMs(raw: string): number {
  const ms = parseDuration(raw);
  if (ms === undefined) throw new ValueError(DURATION_SYNTAX);
  return ms;
}

export function parseBoolean(raw: string): boolean {
  const v = raw.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new ValueError('true or false');
}

export function parseNonNegativeInt(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new ValueError('a non-negative integer');
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new ValueError('a non-negative integer');
  return n;
}

export function parsePort(raw: string, allowZero = false): number {
  if (!/^\d{1,5}$/.test(raw)) throw new ValueError(`a port number (${allowZero ? 0 : 1}-65535)`);
  const n = Number(raw);
  if (n > 65535 || (!allowZero && n === 0))
    throw new ValueError(`a port number (${allowZero ? 0 : 1}-65535)`);
  return n;
}

export interface SocketAddr {
  /** An IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

const ADDR_ACCEPTS = 'an IP:port address such as 0.0.0.0:4143 or [::]:4143';

/** `1.2.3.4:80` or `[::1]:80`; port 0 allowed (pick a free port). */
export function parseSocketAddr(raw: string): SocketAddr {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(raw) ?? /^([^:[\]]+):(\d+)$/.exec(raw);
  if (!m) throw new ValueError(ADDR_ACCEPTS);
  const host = m[1] as string;
  const family = isIP(host);
  if (family === 0) throw new ValueError(ADDR_ACCEPTS);
  const v6 = raw.startsWith('[');
  if ((family === 6) !== v6) throw new ValueError(ADDR_ACCEPTS);
  let port: number;
  try {
    port = parsePort(m[2] as string, true);
  } catch {
    throw new ValueError(ADDR_ACCEPTS);
  }
  return Object.freeze({ host, port, family: family as 4 | 6 });
}

export function formatSocketAddr(addr: { host: string; port: number }): string {
  return isIP(addr.host) === 6 ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

export interface NamedAddr {
  /** A DNS name or IP. */
  readonly host: string;
  readonly port: number;
}

const NAMED_ADDR_ACCEPTS = 'a host:port address such as linkerd-dst-headless.linkerd.svc.cluster.local.:8086';

/** `name:port` (control-plane service addresses may be DNS names) or an IP address. */
export function parseNamedAddr(raw: string): NamedAddr {
  if (raw.startsWith('[')) return parseSocketAddr(raw);
  const m = /^([A-Za-z0-9.-]+):(\d+)$/.exec(raw);
  if (!m) throw new ValueError(NAMED_ADDR_ACCEPTS);
  try {
    return Object.freeze({ host: m[1] as string, port: parsePort(m[2] as string) });
  } catch {
    throw new ValueError(NAMED_ADDR_ACCEPTS);
  }
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseSocketAddrList(raw: string): SocketAddr[] {
  const items = splitList(raw);
  if (items.length === 0) throw new ValueError(`a comma-separated list of ${ADDR_ACCEPTS.slice(3)}`);
  return items.map(parseSocketAddr);
}

const PORTS_ACCEPTS = 'a comma-separated list of ports and ranges such as 25,587,3306,4000-4100';
/** Above this many ports a range is kept as a range, not expanded. */
const MAX_EXPANDED = 65536;

export interface PortSet {
  has(port: number): boolean;
  readonly size: number;
  /** Sorted, for display. */
  readonly ports: readonly number[];
}

/** `25,587,4000-4100`: single ports and inclusive ranges. */
export function parsePortSet(raw: string): PortSet {
  const set = new Set<number>();
  for (const item of splitList(raw)) {
    const range = /^(\d+)-(\d+)$/.exec(item);
    if (range) {
      let lo: number;
      let hi: number;
      try {
        lo = parsePort(range[1] as string);
        hi = parsePort(range[2] as string);
      } catch {
        throw new ValueError(PORTS_ACCEPTS);
      }
      if (lo > hi || hi - lo >= MAX_EXPANDED) throw new ValueError(PORTS_ACCEPTS);
      for (let p = lo; p <= hi; p++) set.add(p);
    } else {
      try {
        set.add(parsePort(item));
      } catch {
        throw new ValueError(PORTS_ACCEPTS);
      }
    }
  }
  return createPortSet(set);
}

export function createPortSet(ports: Iterable<number>): PortSet {
  const set = new Set(ports);
  const sorted = Object.freeze([...set].sort((a, b) => a - b));
  return Object.freeze({ has: (p: number) => set.has(p), size: set.size, ports: sorted });
}

export function parseIpList(raw: string): string[] {
  const items = splitList(raw);
  for (const ip of items) if (isIP(ip) === 0) throw new ValueError('a comma-separated list of IP addresses');
  return items;
}

export function parseStringList(raw: string): string[] {
  return splitList(raw);
}

/** A meshed peer: its address (port undefined: any port) and the identity its proxy presents. */
export interface PeerIdentity {
  readonly host: string;
  readonly port: number | undefined;
  readonly identity: string;
}

const PEERS_ACCEPTS =
  'a comma-separated list of IP:PORT=identity or IP=identity, such as 198.18.0.7:8080=web.ns.serviceaccount.identity.linkerd.cluster.local';
const IDENTITY_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/** `198.18.0.7:8080=name,[fd00::7]=name`. */
export function parsePeerIdentities(raw: string): PeerIdentity[] {
  return splitList(raw).map((item) => {
    const eq = item.indexOf('=');
    const addr = item.slice(0, eq);
    const identity = item.slice(eq + 1);
    if (eq <= 0 || !IDENTITY_NAME.test(identity)) throw new ValueError(PEERS_ACCEPTS);
    if (isIP(addr) !== 0) return Object.freeze({ host: addr, port: undefined, identity });
    const bare = /^\[([^\]]+)\]$/.exec(addr);
    if (bare && isIP(bare[1] as string) === 6)
      return Object.freeze({ host: bare[1] as string, port: undefined, identity });
    try {
      const { host, port } = parseSocketAddr(addr);
      return Object.freeze({ host, port, identity });
    } catch {
      throw new ValueError(PEERS_ACCEPTS);
    }
  });
}
