// Addresses in the proxy API's net.proto shape: IPv4 as a fixed32 (the address as a big-endian
// number), IPv6 as two fixed64 halves.
import { isIP } from 'node:net';
import type { net } from '@tsmesh/core';
import { parseIpAddress } from '@tsmesh/core';

type Long64 = { low: number; high: number; unsigned: true };

function long64(value: bigint): Long64 {
  return {
    low: Number(value & 0xffffffffn) | 0,
    high: Number((value >> 32n) & 0xffffffffn) | 0,
    unsigned: true,
  };
}

/** The proto IPAddress of a textual IP, or undefined when it is not one. */
export function toIpAddress(ip: string): net.IPAddress.$Properties | undefined {
  if (isIP(ip) === 0) return undefined;
  const parsed = parseIpAddress(ip);
  if (!parsed) return undefined;
  if (parsed.family === 4) return { ipv4: parsed.value };
  const v = parsed.value;
  // protobufjs writes fixed64 from any {low, high} object (its LongBits), so no Long dependency.
  return {
    ipv6: {
      first: long64(v >> 64n) as unknown as number,
      last: long64(v & 0xffffffffffffffffn) as unknown as number,
    },
  };
}

export function toTcpAddress(ip: string, port: number): net.TcpAddress.$Properties | undefined {
  const address = toIpAddress(ip);
  return address ? { ip: address, port } : undefined;
}
