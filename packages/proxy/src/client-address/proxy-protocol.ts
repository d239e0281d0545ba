// PROXY protocol version 2 (haproxy.org proxy-protocol.txt §2.2), written to the app before the
// first byte of a TCP connection on a port annotated config.tsmesh.io/proxy-protocol-ports, so a
// TCP app (or a load balancer behind the proxy) learns the real client address.
import { ipBytes } from './ip-bytes.js';

/** The 12-byte v2 signature. */
export const PROXY_V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

export interface ProxyProtocolAddresses {
  readonly sourceIp: string;
  readonly sourcePort: number;
  readonly destinationIp: string;
  readonly destinationPort: number;
}

/**
 * The v2 header for a proxied TCP connection. Mixed or unknown families (which a socket pair
 * cannot really have) are sent as LOCAL with no addresses, as the spec allows.
 */
export function encodeProxyProtocolV2(a: ProxyProtocolAddresses): Buffer {
  const src = ipBytes(a.sourceIp);
  const dst = ipBytes(a.destinationIp);
  if (src === undefined || dst === undefined || src.length !== dst.length) {
    const local = Buffer.alloc(4);
    local[0] = 0x20; // version 2, LOCAL
    return Buffer.concat([PROXY_V2_SIGNATURE, local]);
  }
  const family = src.length === 4 ? 0x11 : 0x21; // AF_INET or AF_INET6, STREAM
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(a.sourcePort, 0);
  ports.writeUInt16BE(a.destinationPort, 2);
  const addrs = Buffer.concat([src, dst, ports]);
  const head = Buffer.alloc(4);
  head[0] = 0x21; // version 2, PROXY
  head[1] = family;
  head.writeUInt16BE(addrs.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, addrs]);
}
