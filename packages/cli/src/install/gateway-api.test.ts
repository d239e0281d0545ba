// What `install --crds` decides about the Gateway API CRDs, as `linkerd install --crds` does
// (linkerd2#13739, #13834, #13872, #13938), for every cluster state and value.
import { MeshError } from '@tsmesh/core';
import type { CustomResourceDefinition } from '@tsmesh/kube';
import { describe, expect, it } from 'vitest';
import { installCrdManifests, planGatewayApiCrds, type GatewayApiState } from './gateway-api.js';

const gatewayCrds = (created: boolean, versions = ['v1', 'v1beta1']): CustomResourceDefinition[] =>
  installCrdManifests(true)
    .filter((c) => c.spec.group === 'gateway.networking.k8s.io')
    .map((c) => ({
      ...c,
      metadata: { name: c.metadata.name, ...(created ? { annotations: c.metadata.annotations } : {}) },
      spec: { ...c.spec, versions: versions.map((name) => ({ ...c.spec.versions[0]!, name, served: true })) },
    }));

/** What the user sees: the message with its hint. */
const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (err) {
    if (MeshError.is(err)) return err.describe();
    throw err;
  }
  throw new Error('expected a refusal');
};

const absent: GatewayApiState = { owner: 'absent', crds: [] };
const ours: GatewayApiState = { owner: 'tsmesh', crds: gatewayCrds(true) };
const external: GatewayApiState = { owner: 'external', crds: gatewayCrds(false) };

describe('planGatewayApiCrds', () => {
  it('without a cluster (--ignore-cluster) only the values decide, enableHttpRoutes first', () => {
    expect(planGatewayApiCrds({}, undefined)).toBe(false);
    expect(planGatewayApiCrds({ installGatewayAPI: true }, undefined)).toBe(true);
    expect(planGatewayApiCrds({ installGatewayAPI: true, enableHttpRoutes: false }, undefined)).toBe(false);
    expect(planGatewayApiCrds({ enableHttpRoutes: true }, undefined)).toBe(true);
  });

  it('refuses when the cluster has no Gateway API and nothing installs it, with how to install it', () => {
    expect(refusal(() => planGatewayApiCrds({}, absent))).toMatch(
      /Gateway API CRDs must be installed before tsmesh.*kubectl apply --server-side -f https:\/\/github\.com\/kubernetes-sigs\/gateway-api\/releases\/download\/v[\d.]+\/standard-install\.yaml.*--set installGatewayAPI=true/s,
    );
    expect(() => planGatewayApiCrds({ installGatewayAPI: false }, absent)).toThrow(/must be installed/);
    expect(planGatewayApiCrds({ installGatewayAPI: true }, absent)).toBe(true);
  });

  it('keeps managing CRDs it installed itself unless told otherwise', () => {
    expect(planGatewayApiCrds({}, ours)).toBe(true);
    expect(planGatewayApiCrds({ installGatewayAPI: false }, ours)).toBe(false);
  });

  it('leaves external CRDs alone, refuses to take them over, and wants v1', () => {
    expect(planGatewayApiCrds({}, external)).toBe(false);
    expect(() => planGatewayApiCrds({ installGatewayAPI: true }, external)).toThrow(
      /not installed by tsmesh; installing them would take them over/,
    );
    const old: GatewayApiState = { owner: 'external', crds: gatewayCrds(false, ['v1beta1']) };
    expect(refusal(() => planGatewayApiCrds({}, old))).toMatch(
      /httproutes\.gateway\.networking\.k8s\.io and grpcroutes\.gateway\.networking\.k8s\.io CRDs are missing the v1 version.*Gateway API v1\.0\.0 or later/,
    );
  });
});
