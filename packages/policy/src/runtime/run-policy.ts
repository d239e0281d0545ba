// tsmesh-policy: parse flags (exit 2 naming a bad one), build the source (Kubernetes API, or a
// manifest directory in local mode), start the controller, stop on SIGINT/SIGTERM.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { MeshError } from '@tsmesh/core';
import {
  createDirectoryObjectSource,
  createKubeApiClient,
  createKubeObjectSource,
  type KubeApiClient,
  type ObjectSource,
} from '@tsmesh/kube';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createPolicyLogger } from './json-logger.js';
import { parsePolicyConfig, POLICY_USAGE, type PolicyConfig } from './policy-config.js';
import { startPolicyService } from './start-policy-service.js';

export async function runPolicy(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config: PolicyConfig | 'help';
  try {
    config = parsePolicyConfig(argv);
  } catch (err) {
    process.stderr.write(`tsmesh-policy: ${MeshError.is(err) ? err.describe() : String(err)}\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(POLICY_USAGE);
    return 0;
  }
  const logger = createPolicyLogger(config.logLevel);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const controller = new AbortController();
  let source: ObjectSource;
  let client: KubeApiClient | undefined;
  try {
    if (config.sourceDir) {
      source = createDirectoryObjectSource({
        dir: config.sourceDir,
        signal: controller.signal,
        logger,
        registry,
        onError: (e) => logger.warn({ error: e.message }, 'skipping manifest'),
      });
    } else {
      const kc = new KubeConfig();
      if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
      else kc.loadFromDefault();
      client = createKubeApiClient(kc, { fieldManager: 'tsmesh-policy', userAgent: 'tsmesh-policy' });
      source = createKubeObjectSource({ client, signal: controller.signal, logger, registry });
    }
    const service = await startPolicyService({
      source,
      host: config.grpcHost,
      port: config.grpcPort,
      clusterNetworks: config.clusterNetworks,
      clusterDomain: config.clusterDomain,
      identityDomain: config.identityDomain,
      controlPlaneNamespace: config.controlPlaneNamespace,
      defaultPolicy: config.defaultPolicy,
      defaultOpaquePorts: config.defaultOpaquePorts,
      probeNetworks: config.probeNetworks,
      globalEgressNetworkNamespace: config.globalEgressNetworkNamespace,
      allowL5dRequestHeaders: config.allowL5dRequestHeaders,
      logger,
      registry,
      signal: controller.signal,
      admin: { host: config.adminHost, port: config.adminPort },
      admission: config.admissionCertDir
        ? {
            host: config.admissionHost,
            port: config.admissionPort,
            certFile: join(config.admissionCertDir, 'tls.crt'),
            keyFile: join(config.admissionCertDir, 'tls.key'),
          }
        : undefined,
      status: client
        ? {
            client,
            identity:
              config.leaseIdentity ?? `${env.POD_NAME ?? hostname()}-${randomBytes(4).toString('hex')}`,
          }
        : undefined,
    });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    await service.close();
    controller.abort();
    await source.close();
    client?.close();
    return 0;
  } catch (err) {
    const message = MeshError.is(err) ? err.describe() : err instanceof Error ? err.message : String(err);
    logger.error({ error: message }, 'could not start');
    process.stderr.write(`tsmesh-policy: ${message}\n`);
    controller.abort();
    client?.close();
    return 1;
  }
}
