// Test helpers: a Destination client on a started service, and streams collected into a model the
// test can wait on (the endpoints a proxy would hold after applying every update).
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { DestinationClient, type destination } from '@tsmesh/core';

export type Update = destination.Update;
export type Profile = destination.DestinationProfile;
export type WeightedAddr = NonNullable<NonNullable<Update['add']>['addrs']>[number];

export interface Collected<T> {
  readonly messages: T[];
  /** Resolves with the first state (after some message) for which `predicate` holds. */
  until(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Resolves with the stream's error status (or undefined if it ended cleanly). */
  readonly ended: Promise<{ code?: number; details?: string } | undefined>;
  cancel(): void;
}

export function collect<T>(stream: ClientReadableStream<T>, onMessage?: (m: T) => void): Collected<T> {
  const messages: T[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  let resolveEnded!: (value: { code?: number; details?: string } | undefined) => void;
  const ended = new Promise<{ code?: number; details?: string } | undefined>((r) => (resolveEnded = r));
  let done = false;
  stream.on('data', (m: T) => {
    messages.push(m);
    onMessage?.(m);
    wake();
  });
  stream.on('error', (err: { code?: number; details?: string }) => {
    done = true;
    resolveEnded({ code: err.code, details: err.details });
    wake();
  });
  stream.on('end', () => {
    done = true;
    resolveEnded(undefined);
    wake();
  });
  return {
    messages,
    ended,
    cancel: () => stream.cancel(),
    until(predicate, timeoutMs = 20_000, what = 'condition') {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate()) {
            cleanup();
            resolve();
          } else if (done) {
            cleanup();
            reject(new Error(`stream ended before ${what}; got ${JSON.stringify(messages.slice(-3))}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${what} within ${timeoutMs} ms; last: ${JSON.stringify(messages.slice(-3))}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The endpoint set a proxy holds after applying updates: key ip:port → WeightedAddr. */
export class EndpointModel {
  readonly addrs: Map<string, WeightedAddr> = new Map();
  exists: boolean | undefined;
  noEndpoints = 0;

  apply(update: Update): void {
    if (update.add) {
      for (const wa of update.add.addrs ?? []) this.addrs.set(keyOf(wa.addr), wa);
    } else if (update.remove) {
      for (const a of update.remove.addrs ?? []) this.addrs.delete(keyOf(a));
    } else if (update.noEndpoints) {
      this.addrs.clear();
      this.exists = update.noEndpoints.exists ?? false;
      this.noEndpoints++;
    }
  }

  keys(): string[] {
    return [...this.addrs.keys()].sort();
  }
}

type AddrLike =
  { ip?: { ipv4?: number | null; ipv6?: unknown } | null; port?: number | null } | null | undefined;

function keyOf(addr: AddrLike): string {
  const ip = addr?.ip;
  if (ip?.ipv4 !== undefined && ip.ipv4 !== null) {
    const v = ip.ipv4 >>> 0;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}:${addr?.port}`;
  }
  const v6 = ip?.ipv6 as
    { first: { toString(radix: number): string }; last: { toString(radix: number): string } } | undefined;
  if (v6) {
    const hex =
      BigInt('0x' + v6.first.toString(16))
        .toString(16)
        .padStart(16, '0') +
      BigInt('0x' + v6.last.toString(16))
        .toString(16)
        .padStart(16, '0');
    return `[${hex.match(/.{4}/g)!.join(':')}]:${addr?.port}`;
  }
  return `?:${addr?.port}`;
}

export function createClient(address: string): DestinationClient {
  return new DestinationClient(address, credentials.createInsecure());
}

export function getEndpoints(
  client: DestinationClient,
  path: string,
  contextToken = '',
): { model: EndpointModel; stream: Collected<Update> } {
  const model = new EndpointModel();
  const stream = collect<Update>(client.get({ scheme: 'k8s', path, contextToken }), (u) => model.apply(u));
  return { model, stream };
}

export function getProfile(client: DestinationClient, path: string, contextToken = ''): Collected<Profile> {
  return collect<Profile>(client.getProfile({ scheme: 'k8s', path, contextToken }));
}
