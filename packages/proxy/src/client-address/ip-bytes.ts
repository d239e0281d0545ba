// An IP address as network-order bytes: 4 for IPv4 (also for `::ffff:a.b.c.d`), 16 for IPv6 —
// what PROXY protocol headers and the proxy API's address messages are made of.
import { isIPv4, isIPv6 } from 'node:net';

/** Bytes of a textual address, or undefined when it is not an IP address. */
export function ipBytes(text: string): Buffer | undefined {
  const addr = text.startsWith('::ffff:') && isIPv4(text.slice(7)) ? text.slice(7) : text;
  if (isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  if (!isIPv6(addr)) return undefined;
  const [head = '', tail] = addr.split('::') as [string, string | undefined];
  const groups = (s: string) =>
    (s === '' ? [] : s.split(':')).flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const buf = Buffer.alloc(16);
  all.forEach((g, i) => buf.writeUInt16BE(g, i * 2));
  return buf;
}
