import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { crdManifests, formatCrdManifestsYaml } from './crd-manifests.js';
import { crdProblems, structuralSchemaProblems } from './structural-schema.js';
import type { JsonSchemaProps } from './json-schema.js';

// What Linkerd serves (reference: linkerd-crds and linkerd-multicluster charts): kind, group,
// plural, served versions in order, storage version.
const expected = [
  ['Server', 'policy.linkerd.io', 'servers', ['v1alpha1', 'v1beta1', 'v1beta2', 'v1beta3'], 'v1beta3'],
  ['ServerAuthorization', 'policy.linkerd.io', 'serverauthorizations', ['v1alpha1', 'v1beta1'], 'v1beta1'],
  ['AuthorizationPolicy', 'policy.linkerd.io', 'authorizationpolicies', ['v1alpha1'], 'v1alpha1'],
  ['MeshTLSAuthentication', 'policy.linkerd.io', 'meshtlsauthentications', ['v1alpha1'], 'v1alpha1'],
  ['NetworkAuthentication', 'policy.linkerd.io', 'networkauthentications', ['v1alpha1'], 'v1alpha1'],
  ['HTTPRoute', 'policy.linkerd.io', 'httproutes', ['v1alpha1', 'v1beta1', 'v1beta2', 'v1beta3'], 'v1beta3'],
  ['HTTPLocalRateLimitPolicy', 'policy.linkerd.io', 'httplocalratelimitpolicies', ['v1alpha1'], 'v1alpha1'],
  ['EgressNetwork', 'policy.linkerd.io', 'egressnetworks', ['v1alpha1'], 'v1alpha1'],
  ['ServiceProfile', 'linkerd.io', 'serviceprofiles', ['v1alpha1', 'v1alpha2'], 'v1alpha2'],
  ['ExternalWorkload', 'workload.linkerd.io', 'externalworkloads', ['v1alpha1', 'v1beta1'], 'v1beta1'],
  ['Link', 'multicluster.linkerd.io', 'links', ['v1alpha1', 'v1alpha2', 'v1alpha3'], 'v1alpha3'],
  ['HTTPRoute', 'gateway.networking.k8s.io', 'httproutes', ['v1', 'v1beta1'], 'v1'],
  ['GRPCRoute', 'gateway.networking.k8s.io', 'grpcroutes', ['v1', 'v1alpha2'], 'v1'],
] as const;

function walk(
  node: JsonSchemaProps,
  path: string,
  visit: (node: JsonSchemaProps, path: string) => void,
): void {
  visit(node, path);
  for (const [name, sub] of Object.entries(node.properties ?? {})) walk(sub, `${path}.${name}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{}`, visit);
}

describe('crdManifests', () => {
  const all = crdManifests({ gatewayApi: true });

  it('has every kind the mesh serves, with Linkerd’s groups, versions and storage flags', () => {
    const actual = all.map((crd) => [
      crd.spec.names.kind,
      crd.spec.group,
      crd.spec.names.plural,
      crd.spec.versions.filter((v) => v.served).map((v) => v.name),
      crd.spec.versions.find((v) => v.storage)?.name,
    ]);
    expect(actual).toEqual(expected.map((e) => [...e.slice(0, 3), [...e[3]], e[4]]));
  });

  it('leaves the Gateway API CRDs out unless asked', () => {
    expect(crdManifests().map((c) => c.metadata.name)).not.toContain('httproutes.gateway.networking.k8s.io');
    expect(crdManifests({ multicluster: false }).map((c) => c.spec.names.kind)).not.toContain('Link');
  });

  it.each(all.map((crd) => [crd.metadata.name, crd] as const))('%s is structural', (_name, crd) => {
    expect(crdProblems(crd)).toEqual([]);
  });

  it.each(all.map((crd) => [crd.metadata.name, crd] as const))(
    '%s: every node has a type or is int-or-string',
    (_n, crd) => {
      for (const version of crd.spec.versions) {
        walk(version.schema.openAPIV3Schema, version.name, (node, path) => {
          const ok = node.type !== undefined || node['x-kubernetes-int-or-string'] === true;
          expect(ok, `${crd.metadata.name} ${path}`).toBe(true);
        });
      }
    },
  );

  it('keeps Linkerd’s validations', () => {
    const byName = new Map(all.map((c) => [c.metadata.name, c]));
    const schemaOf = (name: string, version: string) =>
      byName.get(name)!.spec.versions.find((v) => v.name === version)!.schema.openAPIV3Schema.properties!;
    const server = schemaOf('servers.policy.linkerd.io', 'v1beta3').spec!;
    expect(server.required).toEqual(['port']);
    expect(server.oneOf).toEqual([{ required: ['podSelector'] }, { required: ['externalWorkloadSelector'] }]);
    expect(server.properties!.port!['x-kubernetes-int-or-string']).toBe(true);
    expect(server.properties!.accessPolicy!.default).toBe('deny');
    const mtls = schemaOf('meshtlsauthentications.policy.linkerd.io', 'v1alpha1').spec!;
    expect(mtls.oneOf).toEqual([{ required: ['identities'] }, { required: ['identityRefs'] }]);
    const egress = schemaOf('egressnetworks.policy.linkerd.io', 'v1alpha1').spec!;
    expect(egress.properties!.trafficPolicy!.enum).toEqual(['Allow', 'Deny']);
    const route = schemaOf('httproutes.policy.linkerd.io', 'v1beta3').spec!;
    expect(route.properties!.parentRefs!.maxItems).toBe(32);
    expect(route.properties!.parentRefs!.items!.properties!.group!.default).toBe('policy.linkerd.io');
    expect(route.properties!.rules!.items!.properties!.matches!.maxItems).toBe(8);
    expect(route.properties!.rules!.items!.properties!.timeouts).toBeDefined();
    expect(
      schemaOf('httproutes.policy.linkerd.io', 'v1beta1').spec!.properties!.rules!.items!.properties!
        .timeouts,
    ).toBeUndefined();
    const ew = schemaOf('externalworkloads.workload.linkerd.io', 'v1beta1').spec!;
    expect(ew.required).toEqual(['meshTLS']);
    expect(ew.properties!.workloadIPs!.maxItems).toBe(2);
    const sp1 = schemaOf('serviceprofiles.linkerd.io', 'v1alpha1').spec!;
    expect(sp1.required).toEqual(['routes']);
    expect(byName.get('servers.policy.linkerd.io')!.spec.names.shortNames).toEqual(['srv']);
    expect(byName.get('serviceprofiles.linkerd.io')!.spec.names.shortNames).toEqual(['sp']);
  });

  it('returns fresh objects each time', () => {
    const a = crdManifests();
    a[0]!.spec.group = 'changed';
    expect(crdManifests()[0]!.spec.group).toBe('policy.linkerd.io');
  });

  it('renders as multi-document YAML that parses back to the same objects', () => {
    const text = formatCrdManifestsYaml({ gatewayApi: true });
    const docs = parseAllDocuments(text);
    expect(Array.isArray(docs)).toBe(true);
    const parsed = (docs as ReturnType<typeof parseAllDocuments> & unknown[]).map((d) =>
      (d as { toJS(): unknown }).toJS(),
    );
    expect(parsed).toEqual(JSON.parse(JSON.stringify(all)));
    expect(text.startsWith('---\n')).toBe(true);
  });
});

describe('structuralSchemaProblems', () => {
  it('reports missing types, junctor misuse, bad map lists and metadata constraints with paths', () => {
    const problems = structuralSchemaProblems({
      type: 'object',
      properties: {
        metadata: { type: 'object', properties: { labels: { type: 'object' } } },
        spec: {
          type: 'object',
          properties: {
            a: {},
            b: { type: 'array' },
            c: { type: 'string', enum: [1] },
            d: {
              type: 'array',
              items: { type: 'object', properties: { k: { type: 'string' } } },
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['k'],
            },
          },
          oneOf: [{ required: ['zz'] }, { type: 'object' }],
        },
      },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'openAPIV3Schema.properties.metadata.properties.labels: only name and generateName may be constrained',
        "openAPIV3Schema.properties.spec.properties.a: missing 'type'",
        "openAPIV3Schema.properties.spec.properties.b: array without 'items'",
        'openAPIV3Schema.properties.spec.properties.c: enum value 1 is not of type string',
        "openAPIV3Schema.properties.spec.properties.d: map key 'k' must be required or defaulted",
        "openAPIV3Schema.properties.spec.oneOf[0]: requires 'zz', which is not declared outside the junctor",
        "openAPIV3Schema.properties.spec.oneOf[1]: sets 'type' inside a junctor",
      ]),
    );
  });

  it('accepts the int-or-string anyOf pattern', () => {
    expect(
      structuralSchemaProblems({
        type: 'object',
        properties: {
          p: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        },
      }),
    ).toEqual([]);
  });
});
