// The tsmesh-injector binary: flags (or TSMESH_INJECTOR_* variables) → a frozen configuration →
// startInjectorService, stopped on SIGINT/SIGTERM. The only place that reads files, the process
// environment and the kubeconfig.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { createJsonLogger, createKubeApiClient, type LogLevel, loadKubeConfig } from '@tsmesh/kube';
import {
  createInjectorConfig,
  injectorConfigInputFromFiles,
  type InjectorConfigInput,
} from '../config/index.js';
import { INJECTOR_ADMIN_PORT, INJECTOR_WEBHOOK_PORT, startInjectorService } from '../webhook/index.js';
import { VERSION } from '../version.js';

export const INJECTOR_USAGE = `Usage: tsmesh-injector [options]
The tsmesh proxy injector: a mutating admission webhook adding the proxy to pods.
  --addr HOST:PORT            webhook address (default :${INJECTOR_WEBHOOK_PORT})    TSMESH_INJECTOR_ADDR
  --admin-addr HOST:PORT      /metrics /ready /live (default :${INJECTOR_ADMIN_PORT}) TSMESH_INJECTOR_ADMIN_ADDR
  --tls-cert FILE             serving certificate (default /var/run/linkerd/tls/tls.crt)
  --tls-key FILE              its key (default /var/run/linkerd/tls/tls.key)
  --config FILE               YAML or JSON injector values (InjectorConfig fields)  TSMESH_INJECTOR_CONFIG
  --linkerd-values FILE       or Linkerd's chart values (linkerd-config's values)  TSMESH_INJECTOR_LINKERD_VALUES
  --trust-anchors FILE        identity trust anchors PEM                TSMESH_INJECTOR_TRUST_ANCHORS
  --controller-namespace NS   control-plane namespace (default linkerd)
  --cluster-domain DOMAIN     (default cluster.local)
  --identity-trust-domain D   (default the cluster domain)
  --kubeconfig FILE           (default in-cluster or ~/.kube/config)    KUBECONFIG
  --log-level LEVEL           debug|info|warn|error (default info)
  -h, --help
`;

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'];

function parseAddr(text: string, where: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new MeshError(MeshErrorCode.Config, `"${text}" is not HOST:PORT`, { where, hint: 'e.g. :8443' });
  }
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function readText(path: string, where: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new MeshError(MeshErrorCode.Config, `cannot read ${path}: ${(err as Error).message}`, { where });
  }
}

/** Runs the injector until a signal; resolves with the exit code. */
export async function runInjector(argv: readonly string[], env: Env): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        addr: { type: 'string' },
        'admin-addr': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        config: { type: 'string' },
        'linkerd-values': { type: 'string' },
        'trust-anchors': { type: 'string' },
        'controller-namespace': { type: 'string' },
        'cluster-domain': { type: 'string' },
        'identity-trust-domain': { type: 'string' },
        kubeconfig: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`tsmesh-injector: ${(err as Error).message} (see --help)\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(INJECTOR_USAGE);
    return 0;
  }
  const level = values['log-level'] ?? 'info';
  const logger = createJsonLogger(LOG_LEVELS.includes(level) ? (level as LogLevel) : 'info');
  try {
    const configFile = values.config ?? env.TSMESH_INJECTOR_CONFIG;
    const linkerdValuesFile = values['linkerd-values'] ?? env.TSMESH_INJECTOR_LINKERD_VALUES;
    const input: InjectorConfigInput = injectorConfigInputFromFiles(
      {
        config: configFile ? { text: readText(configFile, '--config'), source: configFile } : undefined,
        linkerdValues: linkerdValuesFile
          ? { text: readText(linkerdValuesFile, '--linkerd-values'), source: linkerdValuesFile }
          : undefined,
      },
      { controlPlaneNamespace: values['controller-namespace'] },
    );
    const anchors = values['trust-anchors'] ?? env.TSMESH_INJECTOR_TRUST_ANCHORS;
    const config = createInjectorConfig({
      ...input,
      ...(anchors ? { trustAnchorsPem: readText(anchors, '--trust-anchors') } : {}),
      ...(values['controller-namespace'] ? { controlPlaneNamespace: values['controller-namespace'] } : {}),
      ...(values['cluster-domain'] ? { clusterDomain: values['cluster-domain'] } : {}),
      ...(values['identity-trust-domain'] ? { trustDomain: values['identity-trust-domain'] } : {}),
      createdBy: input.createdBy ?? `tsmesh/proxy-injector ${VERSION}`,
    });
    if (!config.trustAnchorsPem.trim()) {
      throw new MeshError(MeshErrorCode.Config, 'no identity trust anchors', {
        hint: 'pass --trust-anchors FILE, or identityTrustAnchorsPEM in --linkerd-values, or trustAnchorsPem in --config',
      });
    }
    const addr = parseAddr(values.addr ?? env.TSMESH_INJECTOR_ADDR ?? `:${INJECTOR_WEBHOOK_PORT}`, '--addr');
    const admin = parseAddr(
      values['admin-addr'] ?? env.TSMESH_INJECTOR_ADMIN_ADDR ?? `:${INJECTOR_ADMIN_PORT}`,
      '--admin-addr',
    );
    const client = createKubeApiClient(loadKubeConfig(values.kubeconfig ?? env.KUBECONFIG), {
      userAgent: 'tsmesh-injector',
      fieldManager: 'tsmesh-injector',
    });
    const controller = new AbortController();
    const service = await startInjectorService({
      config,
      certFile: values['tls-cert'] ?? '/var/run/linkerd/tls/tls.crt',
      keyFile: values['tls-key'] ?? '/var/run/linkerd/tls/tls.key',
      host: addr.host,
      port: addr.port,
      adminHost: admin.host,
      adminPort: admin.port,
      client,
      logger,
      signal: controller.signal,
    });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    controller.abort();
    await service.close();
    client.close();
    return 0;
  } catch (err) {
    const message = MeshError.is(err) ? err.describe() : String(err);
    logger.error({ err: message }, 'tsmesh-injector failed to start');
    return 1;
  }
}
