// The `tsmesh-proxy` binary. Only this file touches process.argv, process.env and process.exit.
import { MeshError } from '@tsmesh/core';
import { parseArgs, USAGE } from './cli/index.js';
import { createEnvSource, formatSocketAddr, readProxyConfig } from './config/index.js';
import { startProxy } from './runtime/index.js';
import { VERSION } from './version.js';

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if ('error' in parsed) {
    process.stderr.write(`tsmesh-proxy: ${parsed.error}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`tsmesh-proxy ${VERSION}\n`);
    return 0;
  }
  if (parsed.command !== 'run') {
    process.stderr.write(`tsmesh-proxy: "${parsed.command}" is not implemented yet\n`);
    return 1;
  }
  return run();
}

async function run(): Promise<number> {
  let config;
  try {
    config = readProxyConfig(createEnvSource(process.env));
  } catch (err) {
    process.stderr.write(`tsmesh-proxy: ${MeshError.is(err) ? err.describe() : String(err)}\n`);
    return 2;
  }
  const proxy = await startProxy({ config });
  const log = (msg: string) =>
    process.stderr.write(`${new Date().toISOString()} INFO tsmesh-proxy: ${msg}\n`);
  log(
    `inbound ${formatSocketAddr(proxy.inbound.listener.address)}, outbound ${proxy.outbound.listeners
      .map((l) => formatSocketAddr(l.address))
      .join(' ')}, admin ${formatSocketAddr(proxy.admin.address)}`,
  );
  const reason = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    void proxy.shutdownRequested.then(() => resolve('/shutdown'));
  });
  log(`${reason}: draining for up to ${config.shutdownGracePeriodMs}ms`);
  await proxy.shutdown();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
