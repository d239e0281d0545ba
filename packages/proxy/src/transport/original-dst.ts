// The original destination of a connection that iptables redirected to the proxy, read through
// the SO_ORIGINAL_DST addon (native/original-dst.c, built by scripts/build-native.mjs).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP, type Socket } from 'node:net';
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';

export interface OriginalDst {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

interface Addon {
  originalDst(fd: number): { family: 4 | 6; address: string; port: number } | null;
}

let addon: Addon | null | undefined;

// From src/transport/ (tests) the package root is ../../; from dist/ (built chunks) it is ../.
const CANDIDATES = ['../../build/Release/original_dst.node', '../build/Release/original_dst.node'];

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const require = createRequire(import.meta.url);
  for (const rel of CANDIDATES) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) {
      addon = require(url.pathname) as Addon;
      break;
    }
  }
  return addon;
}

/** True when the addon is built and loadable (Linux, after the package's build step). */
export function isOriginalDstAvailable(): boolean {
  return loadAddon() !== null;
}

/** The file descriptor under a net.Socket (no public API; `_handle.fd` is stable on Linux). */
function socketFd(socket: Socket): number | undefined {
  const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}

/**
 * The address the client originally dialled, or undefined when the connection was not redirected
 * (no NAT entry), the addon is missing, or the socket has no descriptor (e.g. a TLS stream).
 */
export function readOriginalDst(socket: Socket): OriginalDst | undefined {
  const native = loadAddon();
  const fd = socketFd(socket);
  if (native === null || fd === undefined) return undefined;
  let dst: ReturnType<Addon['originalDst']>;
  try {
    dst = native.originalDst(fd);
  } catch (err) {
    throw new MeshError(MeshErrorCode.Internal, 'reading SO_ORIGINAL_DST failed', { cause: err });
  }
  if (dst === null) return undefined;
  // An IPv4-mapped address on a dual-stack socket is reported as IPv4.
  const host =
    dst.address.startsWith('::ffff:') && isIP(dst.address.slice(7)) === 4
      ? dst.address.slice(7)
      : dst.address;
  return { host, port: dst.port, family: isIP(host) === 6 ? 6 : 4 };
}

/**
 * Whether a redirected connection's original destination is the proxy's own listener (a client
 * dialled the proxy directly: explicit mode) rather than a redirected address.
 */
export function isSelfTarget(dst: OriginalDst | undefined, socket: Socket): boolean {
  return dst === undefined || (dst.host === socket.localAddress && dst.port === socket.localPort);
}
