// Manifests and helpers shared by the policy controller's tests: plain objects as users write them,
// and a grpc-js client pair for a running service.
import { credentials } from '@grpc/grpc-js';
import {
  InboundServerPoliciesClient,
  OutboundPoliciesClient,
  type inbound,
  type outbound,
} from '@tsmesh/core';
import type { ClientReadableStream } from '@grpc/grpc-js';

export const NS = 'emojivoto';
export const T0 = '2026-01-01T00:00:00Z';
export const T1 = '2026-01-01T00:01:00Z';

export function pod(name: string, labels: Record<string, string>, ns = NS, podIP = '198.18.0.10') {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: {
      serviceAccountName: 'web',
      containers: [
        {
          name: 'app',
          image: 'example.invalid/web:1',
          ports: [
            { name: 'http', containerPort: 8080 },
            { name: 'grpc', containerPort: 8081 },
          ],
          livenessProbe: { httpGet: { port: 8080, path: '/live' } },
          readinessProbe: { httpGet: { port: 'http', path: '/ready' } },
        },
      ],
    },
    status: { podIP, phase: 'Running' },
  };
}

export function server(name: string, spec: Record<string, unknown> = {}, ns = NS) {
  return {
    apiVersion: 'policy.linkerd.io/v1beta3',
    kind: 'Server',
    metadata: { name, namespace: ns, creationTimestamp: T0 },
    spec: { podSelector: { matchLabels: { app: 'web' } }, port: 'http', ...spec },
  };
}

export function service(
  name: string,
  ports: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
  ns = NS,
) {
  const { annotations, clusterIP, ...rest } = extra as {
    annotations?: Record<string, string>;
    clusterIP?: string;
  };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
    spec: {
      selector: { app: name },
      ports,
      ...(clusterIP ? { clusterIP, clusterIPs: [clusterIP] } : {}),
      ...rest,
    },
  };
}

export function httpRoute(
  name: string,
  parentRefs: Record<string, unknown>[],
  rules: Record<string, unknown>[],
  group = 'gateway.networking.k8s.io',
  ns = NS,
  extra: { annotations?: Record<string, string>; hostnames?: string[] } = {},
) {
  return {
    apiVersion: group === 'policy.linkerd.io' ? 'policy.linkerd.io/v1beta3' : 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name,
      namespace: ns,
      creationTimestamp: T1,
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: { parentRefs, rules, ...(extra.hostnames ? { hostnames: extra.hostnames } : {}) },
  };
}

export function authorizationPolicy(
  name: string,
  targetRef: Record<string, unknown>,
  refs: Record<string, unknown>[],
  ns = NS,
) {
  return {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: ns, creationTimestamp: T0 },
    spec: { targetRef, requiredAuthenticationRefs: refs },
  };
}

export function meshTls(name: string, identities: string[], ns = NS) {
  return {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'MeshTLSAuthentication',
    metadata: { name, namespace: ns },
    spec: { identities },
  };
}

export function networkAuthn(name: string, networks: { cidr: string; except?: string[] }[], ns = NS) {
  return {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'NetworkAuthentication',
    metadata: { name, namespace: ns },
    spec: { networks },
  };
}

export const COMPARABLE = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: false,
  oneofs: false,
} as const;

export function clients(address: string) {
  const creds = credentials.createInsecure();
  const inboundClient = new InboundServerPoliciesClient(address, creds);
  const outboundClient = new OutboundPoliciesClient(address, creds);
  return {
    inbound: inboundClient,
    outbound: outboundClient,
    close() {
      inboundClient.close();
      outboundClient.close();
    },
  };
}

type Clients = ReturnType<typeof clients>;

export function getPort(c: Clients, req: inbound.PortSpec.$Properties): Promise<inbound.Server> {
  return new Promise((resolve, reject) =>
    c.inbound.getPort(req, (err: Error | null, res?: inbound.Server) =>
      err ? reject(err) : resolve(res as inbound.Server),
    ),
  );
}

export function getOutbound(
  c: Clients,
  req: outbound.TrafficSpec.$Properties,
): Promise<outbound.OutboundPolicy> {
  return new Promise((resolve, reject) =>
    c.outbound.get(req, (err: Error | null, res?: outbound.OutboundPolicy) =>
      err ? reject(err) : resolve(res as outbound.OutboundPolicy),
    ),
  );
}

/** Collects stream messages; `next()` waits for the next one (with a timeout). */
export function collect<T>(stream: ClientReadableStream<T>) {
  const messages: T[] = [];
  const waiters: (() => void)[] = [];
  let ended = false;
  let error: Error | undefined;
  stream.on('data', (m: T) => {
    messages.push(m);
    waiters.splice(0).forEach((w) => w());
  });
  stream.on('end', () => {
    ended = true;
    waiters.splice(0).forEach((w) => w());
  });
  stream.on('error', (e: Error) => {
    error = e;
    waiters.splice(0).forEach((w) => w());
  });
  return {
    messages,
    get ended() {
      return ended;
    },
    get error() {
      return error;
    },
    async next(count: number, timeoutMs = 10_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (error) throw error;
        if (ended) throw new Error(`stream ended after ${messages.length} messages`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for message ${count} (have ${messages.length})`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return messages[count - 1] as T;
    },
  };
}

export type InboundServer = inbound.Server;
export type OutboundPolicy = outbound.OutboundPolicy;
