// net.TcpAddress ⇄ host/port. IPv4 is a big-endian uint32; IPv6 two big-endian uint64 halves
// (`first`, `last`), which protobufjs decodes as Long or number.
import { isIP } from 'node:net';
import type { net } from '@tsmesh/core/data-plane';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

type LongLike = number | { toString(radix?: number): string; high?: number; low?: number };

const u64Hex = (v: LongLike): string => {
  if (typeof v === 'number') return BigInt(v).toString(16).padStart(16, '0');
  if (typeof v.high === 'number' && typeof v.low === 'number') {
    const n = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
    return n.toString(16).padStart(16, '0');
  }
  return BigInt(v.toString(10)).toString(16).padStart(16, '0');
};

/** The address of a TcpAddress, or undefined when it carries none. */
export function fromTcpAddress(addr: net.TcpAddress.$Properties | null | undefined): HostPort | undefined {
  if (!addr?.ip) return undefined;
  const port = addr.port ?? 0;
  if (addr.ip.ipv4 !== undefined && addr.ip.ipv4 !== null) {
    const v = addr.ip.ipv4 >>> 0;
    return { host: `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`, port };
  }
  if (addr.ip.ipv6) {
    const hex = u64Hex(addr.ip.ipv6.first as LongLike) + u64Hex(addr.ip.ipv6.last as LongLike);
    const groups = hex.match(/.{4}/g) ?? [];
    const host = groups.map((g) => g.replace(/^0{1,3}/, '')).join(':');
    return { host, port };
  }
  return undefined;
}

/** A TcpAddress for an IP literal and port; undefined for a host name. */
export function toTcpAddress(target: HostPort): net.TcpAddress.$Properties | undefined {
  const family = isIP(target.host);
  if (family === 4) {
    const v = target.host.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
    return { ip: { ipv4: v }, port: target.port };
  }
  if (family === 6) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
    const host = target.host.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
      [((Number(a) << 8) | Number(b)).toString(16), ((Number(c) << 8) | Number(d)).toString(16)].join(':'),
    );
    const [head = '', tail = ''] = host.split('::');
    const h = head === '' ? [] : head.split(':');
    const t = tail === '' ? [] : tail.split(':');
    const full = host.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    const big = full.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
    const first = big >> 64n;
    const last = big & ((1n << 64n) - 1n);
    const toLong = (n: bigint) => ({
      low: Number(n & 0xffffffffn) | 0,
      high: Number(n >> 32n) | 0,
      unsigned: true,
    });
    return {
      ip: { ipv6: { first: toLong(first) as never, last: toLong(last) as never } },
      port: target.port,
    };
  }
  return undefined;
}
