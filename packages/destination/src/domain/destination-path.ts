// Destination paths as proxies send them in GetDestination.path: `host:port` (port 80 when
// absent), where host is a Kubernetes service name `svc.ns.svc.<cluster-domain>`, a StatefulSet
// pod name `pod.svc.ns.svc.<cluster-domain>`, or an IP address (IPv6 in brackets). The rules
// follow Linkerd's destination server (getHostAndPort, parseK8sServiceName).
import { isIP } from 'node:net';
import { MeshError, MeshErrorCode } from '@tsmesh/core';

export type DestinationTarget =
  | {
      readonly kind: 'service';
      readonly namespace: string;
      readonly name: string;
      readonly port: number;
      /** The first label of `pod.svc.ns.svc.<domain>` (a headless Service's endpoint hostname). */
      readonly hostname: string | undefined;
    }
  | { readonly kind: 'ip'; readonly ip: string; readonly family: 4 | 6; readonly port: number };

function invalid(path: string, reason: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, `invalid authority "${path}": ${reason}`, {
    where: 'GetDestination.path',
    hint: 'send host:port with host svc.ns.svc.<cluster-domain>, pod.svc.ns.svc.<cluster-domain> or an IP',
  });
}

/** Splits `host:port` (default port 80; `[v6]:port`); throws MeshError(invalid_argument). */
export function splitHostPort(path: string): { host: string; port: number } {
  if (path.length === 0) throw invalid(path, 'the path is empty');
  if (path.length > 1024) throw invalid(path.slice(0, 64) + '…', 'the path is longer than 1024 characters');
  let host: string;
  let portText: string | undefined;
  if (path.startsWith('[')) {
    const end = path.indexOf(']');
    if (end < 0) throw invalid(path, 'missing "]" after an IPv6 address');
    host = path.slice(1, end);
    const rest = path.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw invalid(path, `unexpected "${rest}" after "]"`);
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) throw invalid(path, `"${host}" is not an IPv6 address`);
  } else if (!path.includes(':')) {
    host = path;
  } else {
    const colon = path.lastIndexOf(':');
    host = path.slice(0, colon);
    portText = path.slice(colon + 1);
    if (host.includes(':')) throw invalid(path, 'an IPv6 address must be written in brackets');
  }
  let port = 80;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw invalid(path, `port "${portText}" is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw invalid(path, `port ${port} is outside 1-65535`);
  }
  if (host === '') throw invalid(path, 'the host is empty');
  return { host, port };
}

/**
 * Parses a destination path. Names must end in `.svc.<clusterDomain>` and have two labels before
 * it (service, namespace) or three (hostname, service, namespace). A trailing dot is accepted.
 */
export function parseDestinationPath(path: string, clusterDomain: string): DestinationTarget {
  const { host, port } = splitHostPort(path);
  const family = isIP(host);
  if (family === 4 || family === 6) return { kind: 'ip', ip: host, family, port };
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  const labels = name.toLowerCase().split('.');
  const suffix = ['svc', ...clusterDomain.toLowerCase().split('.')];
  const n = labels.length - suffix.length;
  if (n < 2 || suffix.some((label, i) => labels[n + i] !== label)) {
    throw invalid(path, `"${host}" is not a Kubernetes service name in cluster domain ${clusterDomain}`);
  }
  if (n > 3) throw invalid(path, `"${host}" has too many labels before .svc.${clusterDomain}`);
  for (const label of labels.slice(0, n)) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(label)) {
      throw invalid(path, `"${label}" is not a DNS label`);
    }
  }
  const [a, b, c] = labels as [string, string, string | undefined];
  return n === 2
    ? { kind: 'service', name: a, namespace: b, port, hostname: undefined }
    : { kind: 'service', hostname: a, name: b, namespace: c as string, port };
}

/** `svc.ns.svc.<clusterDomain>` */
export function serviceFqdn(name: string, namespace: string, clusterDomain: string): string {
  return `${name}.${namespace}.svc.${clusterDomain}`;
}

/** What the proxy's LINKERD2_PROXY_DESTINATION_CONTEXT carries (JSON, or the old `ns:<name>`). */
export interface ContextToken {
  readonly ns: string | undefined;
  readonly nodeName: string | undefined;
  readonly pod: string | undefined;
  /** tsmesh extension: a zone given directly (local mode has no Nodes). */
  readonly zone: string | undefined;
}

const EMPTY_TOKEN: ContextToken = Object.freeze({
  ns: undefined,
  nodeName: undefined,
  pod: undefined,
  zone: undefined,
});

/** Parses a context token; a malformed one is reported through `onInvalid` and read as empty. */
export function parseContextToken(token: string, onInvalid?: (reason: string) => void): ContextToken {
  if (token === '') return EMPTY_TOKEN;
  try {
    const value: unknown = JSON.parse(token);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
      return Object.freeze({ ns: str(o.ns), nodeName: str(o.nodeName), pod: str(o.pod), zone: str(o.zone) });
    }
  } catch {
    const parts = token.split(':');
    if (parts.length === 2 && parts[0] === 'ns' && parts[1]) return { ...EMPTY_TOKEN, ns: parts[1] };
  }
  onInvalid?.(`context token ${JSON.stringify(token.slice(0, 200))} is neither JSON nor ns:<namespace>`);
  return EMPTY_TOKEN;
}
