// `tsmesh diagnostics profile ADDRESS`: the first DestinationProfile the destination service's
// GetProfile answers for an authority or IP:PORT (routes, retry budget, opaque protocol, endpoint),
// as linkerd's `diagnostics profile` — JSON (proto3 mapping) by default, or YAML.
import { credentials } from '@grpc/grpc-js';
import { DestinationClient, MeshError, MeshErrorCode } from '@tsmesh/core';
import { firstMessage } from './endpoints.js';

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^:\s/[\]]+):\d{1,5}$/;

export async function queryProfile(
  address: string,
  target: string,
  contextToken: string,
  timeoutMs: number,
): Promise<unknown> {
  if (!ADDRESS.test(target)) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `"${target}" is not HOST:PORT`, {
      where: 'ADDRESS',
      hint: 'an authority such as web.emojivoto.svc.cluster.local:80, or a pod or cluster IP with its port',
    });
  }
  const client = new DestinationClient(address, credentials.createInsecure());
  try {
    const profile = await firstMessage(
      client.getProfile({ scheme: 'k8s', path: target, contextToken }, { deadline: Date.now() + timeoutMs }),
      address,
      `Destination.GetProfile(${target})`,
    );
    return profile.toJSON();
  } finally {
    client.close();
  }
}
