// A scriptable policy controller for inbound tests: a real grpc-js server implementing
// io.linkerd.proxy.inbound.InboundServerPolicies (GetPort, WatchPort). The test sets the Server
// for a port and changes it while proxies watch; every open watch gets the latest value. It can be
// stopped (streams die, the port refuses) and restarted on the same port.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { addInboundServerPoliciesService, MeshError, MeshErrorCode, type inbound } from '@tsmesh/core';

export interface TestPolicyServer {
  /** `127.0.0.1:PORT` */
  readonly address: string;
  setServer(port: number, server: inbound.Server.$Properties): void;
  /** WatchPort streams opened for a port so far (counts resubscriptions). */
  watches(port: number): number;
  /** The workload strings proxies sent. */
  readonly workloads: ReadonlySet<string>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

interface PortTopic {
  value: inbound.Server.$Properties | undefined;
  version: number;
  readonly waiters: Set<() => void>;
}

export async function startTestPolicyServer(): Promise<TestPolicyServer> {
  const topics = new Map<number, PortTopic>();
  const counts = new Map<number, number>();
  const workloads = new Set<string>();
  const topic = (port: number): PortTopic => {
    let t = topics.get(port);
    if (!t) {
      t = { value: undefined, version: 0, waiters: new Set() };
      topics.set(port, t);
    }
    return t;
  };
  let server: Server | undefined;
  let port = 0;

  const serve = async () => {
    const s = new Server();
    addInboundServerPoliciesService(s, {
      getPort(spec) {
        const value = topic(spec.port).value;
        if (!value) throw new MeshError(MeshErrorCode.NotFound, `no server for port ${spec.port}`);
        return value;
      },
      async *watchPort(spec, ctx) {
        workloads.add(spec.workload);
        counts.set(spec.port, (counts.get(spec.port) ?? 0) + 1);
        const t = topic(spec.port);
        let seen = -1;
        while (!ctx.signal.aborted) {
          if (t.value && t.version !== seen) {
            seen = t.version;
            yield t.value;
            continue;
          }
          await new Promise<void>((resolve) => {
            const done = () => {
              t.waiters.delete(done);
              ctx.signal.removeEventListener('abort', done);
              resolve();
            };
            t.waiters.add(done);
            ctx.signal.addEventListener('abort', done, { once: true });
          });
        }
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      s.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    server = s;
  };
  await serve();
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const t of topics.values()) for (const w of [...t.waiters]) w();
    s.forceShutdown();
  };
  return {
    address: `127.0.0.1:${port}`,
    setServer(p, value) {
      const t = topic(p);
      t.value = value;
      t.version++;
      for (const w of [...t.waiters]) w();
    },
    watches: (p) => counts.get(p) ?? 0,
    workloads,
    stop,
    restart: serve,
    close: stop,
  };
}
