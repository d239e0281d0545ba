// One inbound-only tsmesh proxy for bench/proxy/inbound-features.bench.mjs, from the built package
// (packages/proxy/dist), configured by the same LINKERD2_PROXY_* / TSMESH_PROXY_* variables as the
// binary. Access-log lines go to stderr (the benchmark sends them to /dev/null, as a cluster would
// ship them). Prints {"inbound":N} once listening; exits on SIGTERM.
const dist =
  process.env.BENCH_PROXY_DIST ?? new URL('../../packages/proxy/dist/index.js', import.meta.url).href;
const { createEnvSource, readProxyConfig, startProxy } = await import(dist);

const proxy = await startProxy({ config: readProxyConfig(createEnvSource(process.env)) });
process.stdout.write(`${JSON.stringify({ inbound: proxy.inbound.listener.address.port })}\n`);
process.on('SIGTERM', () => void proxy.shutdown(0).then(() => process.exit(0)));
