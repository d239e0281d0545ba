// The tap service as Kubernetes sees it: an aggregated API server for `tap.linkerd.io/v1alpha1`
// (APIService v1alpha1.tap.linkerd.io → Service `tap` :443 → this HTTPS listener). The aggregator
// authenticates the user and forwards the request with the user in request headers
// (X-Remote-User, X-Remote-Group), proving itself with its proxy client certificate, signed by the
// requestheader client CA (kube-system/extension-apiserver-authentication). Those headers are
// believed only from such a client (and, when given, one of the allowed names); anyone else is
// unauthenticated. Each tap is then authorized with a SubjectAccessReview.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { TapAuthorizer } from './tap-authorizer.js';
import { createTapHttpHandler, requestHeaderAuthenticator, type TapAuthenticator } from './tap-http.js';
import type { TapService } from './tap-service.js';

export interface TapApiServerOptions {
  readonly service: TapService;
  readonly authorize: TapAuthorizer;
  /** The serving certificate (tap-k8s-tls) and key. */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** requestheader-client-ca-file: the CA of the aggregator's client certificate. */
  readonly requestHeaderClientCaPem: string;
  /** requestheader-allowed-names: the client certificate's CN must be one (empty: any). */
  readonly requestHeaderAllowedNames?: readonly string[];
  readonly usernameHeader?: string;
  readonly groupHeader?: string;
  readonly host?: string;
  readonly port?: number;
}

export interface TapApiServer {
  readonly port: number;
  close(): Promise<void>;
}

const GROUP_VERSION = 'tap.linkerd.io/v1alpha1';
const RESOURCES = [
  'namespaces',
  'pods',
  'replicationcontrollers',
  'services',
  'daemonsets',
  'deployments',
  'replicasets',
  'statefulsets',
  'jobs',
  'cronjobs',
];

/** Discovery documents the aggregator and `kubectl api-resources` read. */
function discovery(pathname: string): unknown {
  const version = { groupVersion: GROUP_VERSION, version: 'v1alpha1' };
  const group = { name: 'tap.linkerd.io', versions: [version], preferredVersion: version };
  if (pathname === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: [group] };
  if (pathname === '/apis/tap.linkerd.io') return { kind: 'APIGroup', apiVersion: 'v1', ...group };
  if (pathname === `/apis/${GROUP_VERSION}`)
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: GROUP_VERSION,
      resources: RESOURCES.flatMap((name) => [
        { name, namespaced: name !== 'namespaces', kind: 'Tap', verbs: ['watch'] },
        { name: `${name}/tap`, namespaced: name !== 'namespaces', kind: 'Tap', verbs: ['watch'] },
      ]),
    };
  return undefined;
}

/** Request headers count only from a client certificate the requestheader CA signed. */
export function aggregatorAuthenticator(o: {
  allowedNames?: readonly string[];
  usernameHeader?: string;
  groupHeader?: string;
}): TapAuthenticator {
  const headers = requestHeaderAuthenticator(o.usernameHeader, o.groupHeader);
  return (req) => {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return undefined;
    const cn = socket.getPeerCertificate()?.subject?.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (o.allowedNames && o.allowedNames.length > 0 && !o.allowedNames.includes(name ?? '')) return undefined;
    return headers(req);
  };
}

export async function startTapApiServer(o: TapApiServerOptions): Promise<TapApiServer> {
  const tap = createTapHttpHandler({
    service: o.service,
    authorize: o.authorize,
    authenticate: aggregatorAuthenticator({
      ...(o.requestHeaderAllowedNames ? { allowedNames: o.requestHeaderAllowedNames } : {}),
      ...(o.usernameHeader ? { usernameHeader: o.usernameHeader } : {}),
      ...(o.groupHeader ? { groupHeader: o.groupHeader } : {}),
    }),
  });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer(
    {
      cert: o.certificatePem,
      key: o.privateKeyPem,
      ca: o.requestHeaderClientCaPem,
      requestCert: true,
      // Clients without a certificate (probes) still connect; they are simply not authenticated.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (req: IncomingMessage, res: ServerResponse) => {
      if (tap(req, res)) return;
      const pathname = new URL(req.url ?? '/', 'https://tap.invalid').pathname;
      if (pathname === '/healthz' || pathname === '/readyz' || pathname === '/livez') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      const doc = discovery(pathname);
      if (doc) json(res, 200, doc);
      else json(res, 404, { error: `no route ${pathname}` });
    },
  );
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
