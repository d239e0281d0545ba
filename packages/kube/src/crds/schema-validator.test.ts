import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crdManifests } from './crd-manifests.js';
import { formatSchemaPath, validateAgainstSchema } from './schema-validator.js';

function schemaOf(name: string, version: string) {
  const crd = crdManifests({ gatewayApi: true }).find((c) => c.metadata.name === name)!;
  return crd.spec.versions.find((v) => v.name === version)!.schema.openAPIV3Schema;
}

describe('validateAgainstSchema', () => {
  const server = schemaOf('servers.policy.linkerd.io', 'v1beta3');

  it('accepts a valid Server and fills in defaults', () => {
    const object = {
      apiVersion: 'policy.linkerd.io/v1beta3',
      kind: 'Server',
      metadata: { name: 'web' },
      spec: { podSelector: {}, port: 8080 },
    };
    expect(validateAgainstSchema(object, server)).toEqual([]);
    expect(object.spec).toEqual({
      podSelector: {},
      port: 8080,
      proxyProtocol: 'unknown',
      accessPolicy: 'deny',
    });
  });

  it('names the field, as the apiserver does', () => {
    const issues = validateAgainstSchema({ spec: { podSelector: {}, proxyProtocol: 'SMTP' } }, server);
    expect(issues.map((i) => i.message)).toEqual([
      'spec.proxyProtocol: Unsupported value: "SMTP": supported values: "unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS"',
      'spec.port: Required value',
    ]);
    expect(issues[0]!.path).toEqual(['spec', 'proxyProtocol']);
  });

  it('checks oneOf, patterns, bounds, list keys and types', () => {
    const oneOf = validateAgainstSchema(
      { spec: { port: 1, podSelector: {}, externalWorkloadSelector: {} } },
      server,
    );
    expect(oneOf.map((i) => i.message)).toEqual([
      'spec: must validate one and only one schema (oneOf); 2 of the alternatives match',
    ]);

    const ew = schemaOf('externalworkloads.workload.linkerd.io', 'v1beta1');
    const bad = validateAgainstSchema(
      {
        spec: {
          meshTLS: { identity: '', serverName: 'x' },
          ports: [{ port: 70000 }],
          workloadIPs: [{}, {}, {}],
        },
      },
      ew,
    );
    expect(bad.map((i) => i.message)).toEqual([
      'spec.meshTLS.identity: Invalid value: "": must be at least 1 chars long',
      'spec.ports[0].port: Invalid value: 70000: should be less than or equal to 65535',
      'spec.workloadIPs: Too many: 3: must have at most 2 items',
    ]);

    const route = schemaOf('httproutes.gateway.networking.k8s.io', 'v1');
    const dup = validateAgainstSchema(
      {
        spec: {
          rules: [
            {
              matches: [
                {
                  headers: [
                    { name: 'a', value: '1' },
                    { name: 'a', value: '2' },
                  ],
                },
              ],
            },
          ],
        },
      },
      route,
    );
    expect(dup.map((i) => i.message)).toEqual([
      'spec.rules[0].matches[0].headers[1]: Duplicate value: ["a"]',
    ]);

    const saz = schemaOf('serverauthorizations.policy.linkerd.io', 'v1beta1');
    const pattern = validateAgainstSchema(
      { spec: { server: { name: 'Bad_Name' }, client: { unauthenticated: 'yes' } } },
      saz,
    );
    expect(pattern.map((i) => i.path.join('.'))).toEqual(['spec.server.name', 'spec.client.unauthenticated']);
  });

  it('prunes unknown fields and reports them; keeps preserved and map fields', () => {
    const object = { spec: { podSelector: { matchLabels: { app: 'x' } }, port: 1, proxyprotocol: 'opaque' } };
    const issues = validateAgainstSchema(object, server);
    expect(issues).toEqual([
      {
        path: ['spec', 'proxyprotocol'],
        type: 'unknown-field',
        message: 'unknown field "spec.proxyprotocol"',
      },
    ]);
    expect(object.spec).not.toHaveProperty('proxyprotocol');
    expect(object.spec.podSelector.matchLabels).toEqual({ app: 'x' });
  });

  it('applies array and nested defaults (policy HTTPRoute rules)', () => {
    const route = schemaOf('httproutes.policy.linkerd.io', 'v1beta3');
    const object: { spec: Record<string, unknown> } = { spec: { parentRefs: [{ name: 'web' }] } };
    expect(validateAgainstSchema(object, route)).toEqual([]);
    expect(object.spec).toEqual({
      parentRefs: [{ name: 'web', group: 'policy.linkerd.io', kind: 'Gateway' }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }],
    });
  });

  it('formats paths', () => {
    expect(formatSchemaPath(['spec', 'rules', 0, 'matches', 2, 'path'])).toBe(
      'spec.rules[0].matches[2].path',
    );
    expect(formatSchemaPath([])).toBe('<root>');
  });

  it('never throws, whatever the input (property)', () => {
    const schemas = crdManifests({ gatewayApi: true }).flatMap((c) =>
      c.spec.versions.map((v) => v.schema.openAPIV3Schema),
    );
    fc.assert(
      fc.property(fc.constantFrom(...schemas), fc.jsonValue(), fc.jsonValue(), (schema, spec, status) => {
        const issues = validateAgainstSchema({ spec, status }, schema);
        for (const issue of issues) expect(typeof issue.message).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});
