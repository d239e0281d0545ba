import { describe, expect, it } from 'vitest';
import { gatewayDecision } from './gateway-admission.js';

const config = {
  identity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
  suffixes: ['svc.cluster.local.'],
};
const client = 'web.shop.serviceaccount.identity.linkerd.cluster.local';

describe('gatewayDecision', () => {
  it('forwards meshed requests for local Services with a Forwarded header', () => {
    expect(
      gatewayDecision({ target: 'api.shop.svc.cluster.local.:8080', clientIdentity: client }, config),
    ).toEqual({
      accept: true,
      host: 'api.shop.svc.cluster.local',
      port: 8080,
      forwarded: `by=${config.identity};for=${client};host=api.shop.svc.cluster.local:8080;proto=https`,
    });
  });

  it('refuses what Linkerd refuses', () => {
    const d = (target: string | undefined, clientIdentity: string | undefined, extra = {}) =>
      gatewayDecision({ target, clientIdentity, ...extra }, config);
    expect(d('api.shop.svc.cluster.local', undefined)).toMatchObject({
      accept: false,
      error: 'gateway identity required',
      httpStatus: 403,
    });
    expect(d('example.com:443', client)).toMatchObject({ error: 'gateway domain invalid' });
    expect(d('evilsvc.cluster.local', client)).toMatchObject({ error: 'gateway domain invalid' });
    expect(d(undefined, client)).toMatchObject({ error: 'no authority', httpStatus: 400 });
    expect(d('[::1]:80', client)).toMatchObject({ error: 'no authority' });
    expect(
      d('api.shop.svc.cluster.local', client, {
        forwarded: [`by=${config.identity};for=x;host=y;proto=https`],
      }),
    ).toMatchObject({
      error: 'gateway loop',
      httpStatus: 508,
    });
  });

  it('restricts clients to the allowed identities', () => {
    const restricted = {
      ...config,
      allowedIdentities: [
        '*.identity.linkerd.west.example',
        'ops.tools.serviceaccount.identity.linkerd.cluster.local',
      ],
    };
    const target = 'api.shop.svc.cluster.local';
    expect(
      gatewayDecision(
        { target, clientIdentity: 'web.shop.serviceaccount.identity.linkerd.west.example' },
        restricted,
      ).accept,
    ).toBe(true);
    expect(
      gatewayDecision(
        { target, clientIdentity: 'ops.tools.serviceaccount.identity.linkerd.cluster.local' },
        restricted,
      ).accept,
    ).toBe(true);
    expect(gatewayDecision({ target, clientIdentity: client }, restricted)).toMatchObject({
      error: 'identity not allowed',
    });
  });
});
