// `tsmesh diagnostics endpoints AUTHORITY:PORT…`: the first answer of the destination service's Get
// for each authority — what a proxy would be told — as linkerd's table (NAMESPACE IP PORT POD
// SERVICE) or JSON rows {namespace, ip, port, pod, service}.
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { DestinationClient, MeshError, MeshErrorCode, type destination, type net } from '@tsmesh/core';
import { formatTable } from '@tsmesh/viz';

export interface EndpointRow {
  namespace: string;
  ip: string;
  port: number;
  pod: string;
  service: string;
}

type Long = { low: number; high: number } | number | string;

function u64Hex(value: Long | null | undefined): string {
  if (value === null || value === undefined) return '0'.padStart(16, '0');
  if (typeof value === 'object') {
    return (value.high >>> 0).toString(16).padStart(8, '0') + (value.low >>> 0).toString(16).padStart(8, '0');
  }
  return BigInt(value).toString(16).padStart(16, '0');
}

export function formatNetIp(ip: net.IPAddress.$Properties | null | undefined): string {
  if (!ip) return '';
  if (ip.ipv4 !== undefined && ip.ipv4 !== null) {
    const v = ip.ipv4 >>> 0;
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }
  if (ip.ipv6) {
    const hex = u64Hex(ip.ipv6.first as Long) + u64Hex(ip.ipv6.last as Long);
    const groups = hex.match(/.{4}/g) ?? [];
    return groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':');
  }
  return '';
}

/** The rows of one Get answer. */
export function endpointRows(update: destination.Update.$Properties): EndpointRow[] {
  const set = update.add;
  if (!set) return [];
  const labels = set.metricLabels ?? {};
  const namespace = labels.namespace ?? '';
  const service = `${labels.service ?? ''}.${namespace}`;
  return (set.addrs ?? []).map((a) => {
    const pod = a.metricLabels?.pod ?? '';
    return {
      namespace,
      ip: formatNetIp(a.addr?.ip),
      port: a.addr?.port ?? 0,
      pod: pod.includes('/') ? pod.slice(pod.indexOf('/') + 1) : pod,
      service,
    };
  });
}

const AUTHORITY = /^[^:\s/]+:\d{1,5}$/;

/** Asks the destination service at `address` for each authority; the first answer of each. */
export async function queryEndpoints(
  address: string,
  authorities: readonly string[],
  timeoutMs: number,
): Promise<EndpointRow[]> {
  for (const a of authorities) {
    if (!AUTHORITY.test(a)) {
      throw new MeshError(MeshErrorCode.InvalidArgument, `"${a}" is not an authority with a port`, {
        where: 'AUTHORITY',
        hint: 'e.g. web.emojivoto.svc.cluster.local:80',
      });
    }
  }
  const client = new DestinationClient(address, credentials.createInsecure());
  try {
    const answers = await Promise.all(
      authorities.map((a) =>
        firstMessage(
          client.get({ scheme: 'k8s', path: a }, { deadline: Date.now() + timeoutMs }),
          address,
          `Destination.Get(${a})`,
        ),
      ),
    );
    return answers
      .flatMap(endpointRows)
      .sort(
        (x, y) =>
          x.namespace.localeCompare(y.namespace) ||
          x.service.localeCompare(y.service) ||
          x.pod.localeCompare(y.pod) ||
          x.port - y.port,
      );
  } finally {
    client.close();
  }
}

/** The first message of a server stream, then the stream is cancelled; gRPC errors explained. */
export function firstMessage<T>(stream: ClientReadableStream<T>, address: string, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      fn();
      stream.cancel();
    };
    stream.on('data', (message: T) => finish(() => resolve(message)));
    stream.on('error', (err: { code?: number; details?: string; message: string }) =>
      finish(() =>
        reject(
          new MeshError(
            err.code === 5
              ? MeshErrorCode.NotFound
              : err.code === 4
                ? MeshErrorCode.Timeout
                : MeshErrorCode.Unavailable,
            `${what}: ${err.details || err.message}`,
            {
              where: address,
              hint:
                err.code === 5
                  ? 'no such Service: check the name, namespace and port (kubectl get svc -A)'
                  : 'is the destination service reachable? see --destination-addr',
              cause: err,
            },
          ),
        ),
      ),
    );
    stream.on('end', () =>
      finish(() =>
        reject(
          new MeshError(MeshErrorCode.Unavailable, `${what} ended without an answer`, { where: address }),
        ),
      ),
    );
  });
}

export function formatEndpoints(rows: readonly EndpointRow[], output: 'table' | 'json'): string {
  if (output === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (rows.length === 0) return 'No endpoints found.\n';
  const header = ['NAMESPACE', 'IP', 'PORT', 'POD', 'SERVICE'];
  const cells = rows.map((r) => [r.namespace, r.ip, String(r.port), r.pod, r.service]);
  return `${formatTable(header, cells, header.length)}\n`;
}
