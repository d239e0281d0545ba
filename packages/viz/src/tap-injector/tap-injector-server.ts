// The tap-injector Deployment's server (`tsmesh viz tap-injector`): the mutating webhook (pods,
// CREATE) that gives meshed pods' proxies the tap service's identity (tapInjectionPatch), reading
// the namespace's opt-out annotation through the Kubernetes API.
import { join } from 'node:path';
import {
  allow,
  CoreKinds,
  createAdmissionWebhookServer,
  isNotFound,
  type AdmissionWebhookServer,
  type KubeApiClient,
} from '@tsmesh/kube';
import { tapInjectionPatch } from './tap-injector.js';

export interface TapInjectorOptions {
  readonly client: KubeApiClient;
  readonly tlsDir: string;
  readonly host: string;
  readonly port: number;
  readonly tapServiceName: string;
}

export async function startTapInjector(
  o: TapInjectorOptions,
): Promise<{ server: AdmissionWebhookServer; port: number }> {
  const server = createAdmissionWebhookServer({
    certFile: join(o.tlsDir, 'tls.crt'),
    keyFile: join(o.tlsDir, 'tls.key'),
    host: o.host,
    port: o.port,
    handlers: {
      '/': async (request, { signal }) => {
        if (request.operation !== 'CREATE' || !request.object) return allow();
        const ns = request.namespace ?? request.object.metadata?.namespace;
        const annotations = ns
          ? await o.client
              .get(CoreKinds.Namespace, { name: ns }, { signal })
              .then((n) => n.metadata?.annotations ?? {})
              .catch((err: unknown) => {
                if (isNotFound(err)) return {};
                throw err;
              })
          : {};
        return allow(tapInjectionPatch(request.object, o.tapServiceName, annotations));
      },
    },
  });
  const { port } = await server.start();
  return { server, port };
}
