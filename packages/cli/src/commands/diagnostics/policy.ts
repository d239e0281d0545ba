// `tsmesh diagnostics policy RESOURCE PORT`: what the policy controller tells a proxy.
// - a pod (po/NAME or NAME): InboundServerPolicies.GetPort for {"ns","pod"} and the port — the
//   Server, authorizations and routes the pod's proxy enforces there;
// - a Service (svc/NAME): OutboundPolicies.Get for NAME.NS.svc.DOMAIN:PORT — the routes and
//   backends a client's proxy uses.
// Printed as YAML (default) or JSON in the proto3 JSON mapping.
import { credentials } from '@grpc/grpc-js';
import { InboundServerPoliciesClient, MeshError, MeshErrorCode, OutboundPoliciesClient } from '@tsmesh/core';
import { stringify as toYaml } from 'yaml';

export type PolicyTarget =
  | { readonly direction: 'inbound'; readonly pod: string }
  | { readonly direction: 'outbound'; readonly service: string };

export function parsePolicyTarget(text: string): PolicyTarget {
  const slash = text.indexOf('/');
  const type = slash < 0 ? 'po' : text.slice(0, slash).toLowerCase();
  const name = slash < 0 ? text : text.slice(slash + 1);
  if (name && !name.includes('/')) {
    if (['po', 'pod', 'pods'].includes(type)) return { direction: 'inbound', pod: name };
    if (['svc', 'service', 'services'].includes(type)) return { direction: 'outbound', service: name };
  }
  throw new MeshError(MeshErrorCode.InvalidArgument, `"${text}" is not a pod or a Service`, {
    where: 'RESOURCE',
    hint: 'use po/NAME (inbound policy of a pod) or svc/NAME (outbound policy of a Service)',
  });
}

export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `"${text}" is not a port number`, {
      where: 'PORT',
      hint: 'a number from 1 to 65535',
    });
  }
  return port;
}

export interface PolicyQuery {
  readonly address: string;
  readonly namespace: string;
  readonly target: PolicyTarget;
  readonly port: number;
  readonly clusterDomain: string;
  readonly timeoutMs: number;
}

type Unary<Req, Res> = (
  request: Req,
  options: { deadline: number },
  callback: (err: { code?: number; details?: string; message: string } | null, res?: Res) => void,
) => unknown;

function call<Req, Res>(
  method: Unary<Req, Res>,
  request: Req,
  query: PolicyQuery,
  what: string,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, { deadline: Date.now() + query.timeoutMs }, (err, res) => {
      if (!err) return resolve(res as Res);
      reject(
        new MeshError(
          err.code === 5
            ? MeshErrorCode.NotFound
            : err.code === 3
              ? MeshErrorCode.InvalidArgument
              : MeshErrorCode.Unavailable,
          `${what}: ${err.details || err.message}`,
          {
            where: query.address,
            hint:
              err.code === 5 || err.code === 3
                ? 'check the name, -n NAMESPACE and the port (kubectl get pod,svc -n NAMESPACE)'
                : 'is the policy service reachable? see --policy-addr',
            cause: err,
          },
        ),
      );
    });
  });
}

/** The policy as a plain object in the proto3 JSON mapping. */
export async function queryPolicy(query: PolicyQuery): Promise<unknown> {
  const { target, namespace, port } = query;
  if (target.direction === 'inbound') {
    const client = new InboundServerPoliciesClient(query.address, credentials.createInsecure());
    try {
      const server = await call(
        client.getPort.bind(client) as unknown as Unary<object, { toJSON(): unknown }>,
        { workload: JSON.stringify({ ns: namespace, pod: target.pod }), port },
        query,
        `InboundServerPolicies.GetPort(${namespace}/${target.pod}:${port})`,
      );
      return server.toJSON();
    } finally {
      client.close();
    }
  }
  const client = new OutboundPoliciesClient(query.address, credentials.createInsecure());
  const authority = `${target.service}.${namespace}.svc.${query.clusterDomain}:${port}`;
  try {
    const policy = await call(
      client.get.bind(client) as unknown as Unary<object, { toJSON(): unknown }>,
      { sourceWorkload: JSON.stringify({ ns: namespace, pod: 'tsmesh-diagnostics' }), authority },
      query,
      `OutboundPolicies.Get(${authority})`,
    );
    return policy.toJSON();
  } finally {
    client.close();
  }
}

/** A message in the proto3 JSON mapping, as YAML or indented JSON. */
export function formatProtoJson(policy: unknown, output: 'yaml' | 'json'): string {
  return output === 'json' ? `${JSON.stringify(policy, null, 2)}\n` : toYaml(policy);
}
