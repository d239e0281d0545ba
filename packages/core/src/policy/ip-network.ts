// IP addresses and CIDR networks (with `except` holes), as NetworkAuthentication,
// ServerAuthorization and the cluster networks use them. IPv4 is kept as an unsigned 32-bit number
// and IPv6 as a bigint so that a containment check is a mask and a compare.
import { invalidPolicy } from './policy-error.js';

export type IpAddress =
  { readonly family: 4; readonly value: number } | { readonly family: 6; readonly value: bigint };

export interface IpNetwork {
  readonly family: 4 | 6;
  /** The network address, host bits cleared. */
  readonly address: IpAddress;
  readonly prefixLength: number;
  /** The CIDR as written in the manifest. */
  readonly cidr: string;
}

/** A network that admits clients, minus excepted sub-networks (Linkerd's `NetworkMatch`). */
export interface NetworkMatch {
  readonly net: IpNetwork;
  readonly except: readonly IpNetwork[];
}

/** Parses a dotted-quad IPv4 or an RFC 4291 IPv6 address; undefined when malformed. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.includes(':')) return parseIpv6(text);
  const value = parseIpv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

function parseIpv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // no leading zeros (ambiguous octal)
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

function parseIpv6(text: string): IpAddress | undefined {
  let body = text;
  const zone = body.indexOf('%');
  if (zone >= 0) body = body.slice(0, zone);
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const g of [...head, ...new Array<number>(missing).fill(0), ...tail])
    value = (value << 16n) | BigInt(g);
  return { family: 6, value };
}

/** Parses `a.b.c.d/n` or `x::y/n`; a bare address is a host network (/32 or /128). */
export function parseIpNetwork(cidr: string, where = 'cidr'): IpNetwork {
  const slash = cidr.indexOf('/');
  const addressText = slash < 0 ? cidr : cidr.slice(0, slash);
  const address = parseIpAddress(addressText.trim());
  if (!address) {
    throw invalidPolicy(
      where,
      `"${cidr}" is not an IP network`,
      'write a CIDR such as 10.0.0.0/8 or fd00::/8',
    );
  }
  const max = address.family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : cidr.slice(slash + 1).trim();
  const prefixLength = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefixLength >= 0 && prefixLength <= max)) {
    throw invalidPolicy(where, `"${cidr}" has an invalid prefix length`, `use 0 to ${max}`);
  }
  return { family: address.family, address: maskAddress(address, prefixLength), prefixLength, cidr };
}

function maskAddress(address: IpAddress, prefixLength: number): IpAddress {
  if (address.family === 4) {
    const hostBits = 32 - prefixLength;
    const value = hostBits === 32 ? 0 : Math.floor(address.value / 2 ** hostBits) * 2 ** hostBits;
    return { family: 4, value };
  }
  const hostBits = BigInt(128 - prefixLength);
  return { family: 6, value: (address.value >> hostBits) << hostBits };
}

export function networkContains(net: IpNetwork, ip: IpAddress): boolean {
  if (net.family !== ip.family) return false;
  if (net.prefixLength === 0) return true;
  if (ip.family === 4) {
    const hostBits = 32 - net.prefixLength;
    return Math.floor(ip.value / 2 ** hostBits) * 2 ** hostBits === net.address.value;
  }
  const hostBits = BigInt(128 - net.prefixLength);
  return (ip.value >> hostBits) << hostBits === net.address.value;
}

/** True when the address is inside `net` and outside every `except`. */
export function networkMatchContains(match: NetworkMatch, ip: IpAddress): boolean {
  if (!networkContains(match.net, ip)) return false;
  for (const hole of match.except) if (networkContains(hole, ip)) return false;
  return true;
}

export function formatIpAddress(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((ip.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
}

/** All IPv4 and IPv6 addresses: what a policy without a NetworkAuthentication admits. */
export const ALL_NETWORKS: readonly NetworkMatch[] = Object.freeze([
  { net: parseIpNetwork('0.0.0.0/0'), except: [] },
  { net: parseIpNetwork('::/0'), except: [] },
]);

/** Linkerd's default `clusterNetworks` install value. */
export const DEFAULT_CLUSTER_NETWORKS: readonly string[] = Object.freeze([
  '10.0.0.0/8',
  '100.64.0.0/10',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fd00::/8',
]);
