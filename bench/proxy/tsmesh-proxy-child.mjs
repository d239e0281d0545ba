// One tsmesh proxy for the benchmark, started from the built package (packages/proxy/dist) with a
// static workload certificate, so mesh TLS between the two proxies is real. Configuration comes
// from the same LINKERD2_PROXY_* / TSMESH_PROXY_* variables the binary reads; the benchmark adds
//   BENCH_CERT_DIR   directory with ca.crt and <BENCH_NAME>.crt / <BENCH_NAME>.key
//   BENCH_NAME       which certificate is this proxy's (its identity is in BENCH_IDENTITY)
//   BENCH_PEER_PORT  an outbound target on this port is meshed, with identity BENCH_PEER_IDENTITY
//   BENCH_PEER_HINT  h2 (default): that peer gets HTTP/1 over HTTP/2 (l5d-orig-proto), as discovery's
//                    h2 hint gives meshed pods; none: HTTP/1 stays HTTP/1 between the proxies
//   BENCH_PROXY_DIST another build of the package (default: packages/proxy/dist/index.js)
// Prints {"inbound":N,"outbound":N,"admin":N} once listening.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// BENCH_PROXY_DIST: another build's index.js (build-revision.mjs) to compare versions in one run.
const dist =
  process.env.BENCH_PROXY_DIST ?? new URL('../../packages/proxy/dist/index.js', import.meta.url).href;
const { createEnvSource, readProxyConfig, startProxy } = await import(dist);

const env = process.env;
const dir = env.BENCH_CERT_DIR;
const cert = {
  identity: env.BENCH_IDENTITY,
  certificateChainPem: readFileSync(join(dir, `${env.BENCH_NAME}.crt`), 'utf8'),
  privateKeyPem: readFileSync(join(dir, `${env.BENCH_NAME}.key`), 'utf8'),
};
const peerPort = Number(env.BENCH_PEER_PORT ?? 0);
// Read once: the callbacks run per request, and each process.env read is a call into C++ (it showed
// as 0.6 % of the outbound proxy's busy time in a profile).
const peerIdentity = env.BENCH_PEER_IDENTITY;
const peerHint = (env.BENCH_PEER_HINT ?? 'h2') === 'h2' ? 'h2' : undefined;
const proxy = await startProxy({
  config: readProxyConfig(createEnvSource(env)),
  certificates: { current: () => cert, subscribe: () => () => undefined },
  trustAnchorsPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
  identityFor: (t) => (t.port === peerPort ? peerIdentity : undefined),
  protocolHintFor: (t) => (t.port === peerPort ? peerHint : undefined),
});
process.stdout.write(
  `${JSON.stringify({
    inbound: proxy.inbound.listener.address.port,
    outbound: proxy.outbound.listeners[0].address.port,
    admin: proxy.admin.address.port,
  })}\n`,
);
process.on('SIGTERM', () => void proxy.shutdown(0).then(() => process.exit(0)));
if (env.BENCH_MEMLOG) {
  // Heap figures every second on stderr, to see where a proxy's memory goes under load.
  const mb = (n) => (n / 1048576).toFixed(1);
  // With BENCH_MEMLOG=gc (and node --expose-gc) a full GC runs first: live heap only.
  setInterval(() => {
    if (env.BENCH_MEMLOG === 'gc') globalThis.gc?.();
    const m = process.memoryUsage();
    process.stderr.write(
      `${env.BENCH_NAME} rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`,
    );
  }, 1000).unref();
}
