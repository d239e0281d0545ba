// The `tsmesh-proxy` binary. Only this file touches process.argv, process.env and process.exit.
import { MeshError } from '@tsmesh/core/data-plane';
import { awaitProxy } from './await/index.js';
import { parseArgs, USAGE } from './cli/index.js';
import { createEnvSource, formatSocketAddr, parseDurationMs, readProxyConfig } from './config/index.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { configureFirewall, parseInitArgs } from './init/index.js';
import { identitySetupFromConfig, startProxyIdentity, type ProxyIdentity } from './identity/index.js';
import { installAsyncResourceBind, lowerHelperThreadPriority, startProxy } from './runtime/index.js';
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
  if (parsed.command === 'await') return runAwait(parsed.options, parsed.rest);
  if (parsed.command === 'init') return runInit(parsed.options);
  return run();
}

async function runAwait(options: readonly string[], commandLine: readonly string[]): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`tsmesh-proxy await: ${message}\n\n${USAGE}`);
    return 2;
  };
  const [command, ...args] = commandLine;
  if (command === undefined) return fail('no command given after --');
  let timeoutMs = 120_000;
  let adminPort: number | undefined;
  let shutdown = true;
  for (let i = 0; i < options.length; i++) {
    const option = options[i];
    if (option === '--no-shutdown') shutdown = false;
    else if (option === '--timeout' || option === '--port') {
      const value = options[++i];
      if (value === undefined) return fail(`${option} needs a value`);
      try {
        if (option === '--timeout') timeoutMs = parseDurationMs(value);
        else {
          adminPort = Number(value);
          if (!Number.isInteger(adminPort) || adminPort < 1 || adminPort > 65535)
            throw new Error('a port from 1 to 65535');
        }
      } catch (err) {
        return fail(
          `invalid ${option} "${value}": ${MeshError.is(err) ? err.describe() : (err as Error).message}`,
        );
      }
    } else return fail(`unknown option "${option}"`);
  }
  try {
    return await awaitProxy({
      command,
      args,
      adminPort,
      timeoutMs,
      shutdown,
      log: (line) => process.stderr.write(`tsmesh-proxy await: ${line}\n`),
    });
  } catch (err) {
    process.stderr.write(`tsmesh-proxy await: ${MeshError.is(err) ? err.describe() : String(err)}\n`);
    return 1;
  }
}

async function runInit(options: readonly string[]): Promise<number> {
  let initOptions;
  try {
    initOptions = parseInitArgs(options);
  } catch (err) {
    process.stderr.write(
      `tsmesh-proxy init: ${MeshError.is(err) ? err.describe() : String(err)}\n\n${USAGE}`,
    );
    return 2;
  }
  // --log-format json: one JSON object a line, as linkerd-init's logrus JSON formatter.
  const log = (line: string) =>
    process.stderr.write(
      initOptions.logFormat === 'json'
        ? `${JSON.stringify({ level: 'info', msg: line, time: new Date().toISOString() })}\n`
        : `${new Date().toISOString()} INFO tsmesh-proxy init: ${line}\n`,
    );
  try {
    await configureFirewall(initOptions, { log, print: (line) => process.stdout.write(`${line}\n`) });
    return 0;
  } catch (err) {
    process.stderr.write(`tsmesh-proxy init: ${MeshError.is(err) ? err.describe() : String(err)}\n`);
    return 1;
  }
}

async function run(): Promise<number> {
  // Before the first HTTP/2 stream: node:http2 would otherwise promote every client stream to the
  // old generation (runtime/async-resource-bind.ts).
  installAsyncResourceBind();
  let config;
  let identitySetup;
  try {
    config = readProxyConfig(createEnvSource(process.env));
    identitySetup = identitySetupFromConfig(config.identity);
  } catch (err) {
    process.stderr.write(`tsmesh-proxy: ${MeshError.is(err) ? err.describe() : String(err)}\n`);
    return 2;
  }
  const log = (msg: string, level = 'INFO') =>
    process.stderr.write(`${new Date().toISOString()} ${level} tsmesh-proxy: ${msg}\n`);
  const stopHelperPriority = lowerHelperThreadPriority(config.helperThreadNice, {
    onError: (err) => log(`helper threads keep their priority: ${err.message}`, 'WARN'),
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let identity: ProxyIdentity | undefined;
  if (identitySetup.kind === 'enabled') {
    // The proxy reports ready only once it holds a certificate (startProxy's readiness).
    identity = startProxyIdentity({
      ...identitySetup.options,
      registry,
      logger: {
        info: (fields, message) => log(`${message} ${JSON.stringify(fields)}`),
        warn: (fields, message) => log(`${message} ${JSON.stringify(fields)}`, 'WARN'),
      },
    });
    log(
      `identity: ${identitySetup.options.localName} from ${identitySetup.options.address}${identitySetup.tls ? ' over TLS' : ''}`,
    );
  } else {
    log(`identity disabled (${identitySetup.reason}): no mesh TLS`, 'WARN');
  }
  const proxy = await startProxy({
    config,
    registry,
    certificates: identity,
    // The last good policy stays in force; say why the controller's answer is missing or unusable.
    onPolicyError: (port, err) =>
      log(`inbound policy for port ${port}: ${MeshError.is(err) ? err.describe() : String(err)}`, 'WARN'),
    onDiscoveryError: (what, err) => log(`outbound discovery, ${what}: ${err.message}`, 'WARN'),
  });
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
  identity?.close();
  stopHelperPriority();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
