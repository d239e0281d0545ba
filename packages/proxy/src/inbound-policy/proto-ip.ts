// Addresses as the proxy API carries them (io.linkerd.proxy.net): IPv4 as a uint32, IPv6 as two
// 64-bit halves. The policy engine in @tsmesh/core works on CIDR text, so networks are turned into
// text once, when a policy is compiled; tap turns socket addresses into messages per event.
import { isIPv4 } from 'node:net';
import type { net } from '@tsmesh/core/data-plane';
import { ipBytes } from '../client-address/index.js';

type ProtoIp = net.IPAddress.$Properties;
type Long64 = number | { low: number; high: number; unsigned?: boolean } | null | undefined;

const toBigInt = (v: Long64): bigint => {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
};

/** `1.2.3.4` or `::1` (full, uncompressed groups are fine for parsers) for a proto address. */
export function formatProtoIp(ip: ProtoIp | null | undefined): string | undefined {
  if (!ip) return undefined;
  if (ip.ipv4 !== undefined && ip.ipv4 !== null) {
    const v = ip.ipv4 >>> 0;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  if (ip.ipv6) {
    const value = (toBigInt(ip.ipv6.first as Long64) << 64n) | toBigInt(ip.ipv6.last as Long64);
    const groups: string[] = [];
    for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
    return groups.join(':');
  }
  return undefined;
}

/** The proto form of a textual address (`::ffff:1.2.3.4` is reported as IPv4). */
export function toProtoIp(text: string): ProtoIp | undefined {
  const bytes = ipBytes(text);
  if (bytes === undefined) return undefined;
  if (bytes.length === 4) return { ipv4: bytes.readUInt32BE(0) };
  // protobufjs writes any {low, high} object as a 64-bit value; a JS number would lose bits.
  const long = (at: number) =>
    ({ high: bytes.readInt32BE(at), low: bytes.readInt32BE(at + 4), unsigned: true }) as unknown as number;
  return { ipv6: { first: long(0), last: long(8) } };
}

/** A client address without the IPv4-mapped prefix Node reports on dual-stack sockets. */
export function plainIp(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
