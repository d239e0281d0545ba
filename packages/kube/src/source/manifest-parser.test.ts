import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeshError } from '@tsmesh/core';
import { knownResourceKinds, MeshKinds } from '../resources/index.js';
import { ManifestError } from './manifest-error.js';
import { parseManifests } from './manifest-parser.js';

const kinds = knownResourceKinds();
const at = new Date('2025-01-02T03:04:05.678Z');

describe('parseManifests', () => {
  it('reads multi-document files, dispatches on apiVersion/kind, defaults and normalises', () => {
    const text = `# a comment
apiVersion: policy.linkerd.io/v1beta1
kind: Server
metadata:
  name: web
spec:
  podSelector: {matchLabels: {app: web}}
  port: http
---
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 80}]}
`;
    const result = parseManifests(text, 'app.yaml', { kinds, creationTimestamp: at });
    expect(result.errors).toEqual([]);
    expect(result.objects.map((o) => [o.kind.kind, o.document, o.line])).toEqual([
      ['Server', 1, 2],
      ['Service', 3, 11],
    ]);
    const server = result.objects[0]!.object;
    // Served at the storage version, with the apiserver's defaults and server-set fields.
    expect(server.apiVersion).toBe('policy.linkerd.io/v1beta3');
    expect(server.metadata).toMatchObject({
      name: 'web',
      namespace: 'default',
      creationTimestamp: '2025-01-02T03:04:05Z',
      generation: 1,
    });
    expect(
      parseManifests(text, 'app.yaml', { kinds }).objects[0]!.object.metadata!.creationTimestamp,
    ).toBeUndefined();
    expect(server.metadata!.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(server.spec).toEqual({
      podSelector: { matchLabels: { app: 'web' } },
      port: 'http',
      proxyProtocol: 'unknown',
    });
    expect(result.objects[1]!.object.metadata!.namespace).toBe('shop');
  });

  it('a bad document names file, document, line, column and field; the others are kept', () => {
    const text = `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: good}
spec: {podSelector: {}, port: 80}
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: bad}
spec:
  podSelector: {}
  port: 80
  proxyProtocol: SMTP
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: also-good}
spec: {podSelector: {}, port: 81}
`;
    const result = parseManifests(text, 'servers.yaml', { kinds });
    expect(result.objects.map((o) => o.object.metadata!.name)).toEqual(['good', 'also-good']);
    expect(result.errors).toHaveLength(1);
    const err = result.errors[0]!;
    expect(err).toBeInstanceOf(ManifestError);
    expect(err).toBeInstanceOf(MeshError);
    expect(err).toMatchObject({
      file: 'servers.yaml',
      document: 2,
      line: 12,
      column: 18,
      field: 'spec.proxyProtocol',
      reason: 'schema',
    });
    expect(err.describe()).toBe(
      'servers.yaml, document 2, line 12, column 18: Server bad is invalid: spec.proxyProtocol: Unsupported value: "SMTP": supported values: "unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS"',
    );
  });

  it('missing required fields point at the enclosing mapping', () => {
    const text = `apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata:
  name: nets
spec:
  networks:
    - except: [198.18.1.0/24]
`;
    const [err] = parseManifests(text, 'n.yaml', { kinds }).errors;
    expect(err).toMatchObject({ document: 1, line: 7, field: 'spec.networks[0].cidr' });
    expect(err!.message).toContain('spec.networks[0].cidr: Required value');
  });

  it('reports YAML syntax errors with their position and keeps the other documents', () => {
    const text = `apiVersion: v1
kind: Namespace
metadata: {name: ok}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broken
data: {}
`;
    const result = parseManifests(text, 'y.yaml', { kinds });
    expect(result.objects.map((o) => o.object.metadata!.name)).toEqual(['ok']);
    expect(result.errors[0]).toMatchObject({ reason: 'yaml_syntax', document: 2 });
    expect(result.errors[0]!.line).toBeGreaterThanOrEqual(7);
  });

  it('an undefined alias or an alias bomb fails only its document', () => {
    const bomb = [
      'a: &a [x, x]',
      ...Array.from(
        { length: 12 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      ),
    ].join('\n');
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: *nowhere\n---\n${bomb}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: fine}\n`;
    const result = parseManifests(text, 'alias.yaml', { kinds });
    expect(result.errors.map((e) => [e.reason, e.document])).toEqual([
      ['yaml_syntax', 1],
      ['yaml_syntax', 2],
    ]);
    expect(result.objects.map((o) => o.object.metadata!.name)).toEqual(['fine']);
  });

  it('explains unknown kinds, unserved versions, bad names and non-objects', () => {
    const text = `apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: policy.linkerd.io/v2
kind: Server
metadata: {name: s}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: Not_Valid}
---
- just a list
---
apiVersion: v1
kind: ConfigMap
---
kind: ConfigMap
`;
    const errors = parseManifests(text, 'e.yaml', { kinds }).errors;
    expect(errors.map((e) => [e.reason, e.document, e.field])).toEqual([
      ['unknown_kind', 1, 'kind'],
      ['unserved_version', 2, 'apiVersion'],
      ['invalid_name', 3, 'metadata.name'],
      ['not_an_object', 4, undefined],
      ['missing_field', 5, 'metadata'],
      ['missing_field', 6, 'apiVersion'],
    ]);
    expect(errors[1]!.hint).toBe('use one of versions v1alpha1, v1beta1, v1beta2, v1beta3');
    expect(errors[0]!.line).toBe(2);
  });

  it('expands kind: List', () => {
    const text = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ServiceAccount
    metadata: {name: a}
  - apiVersion: policy.linkerd.io/v1alpha1
    kind: EgressNetwork
    metadata: {name: e}
    spec: {trafficPolicy: Sometimes}
`;
    const result = parseManifests(text, 'list.yaml', { kinds });
    expect(result.objects.map((o) => o.kind.kind)).toEqual(['ServiceAccount']);
    expect(result.errors[0]).toMatchObject({ field: 'spec.trafficPolicy', line: 10 });
    expect(result.errors[0]!.message).toMatch(/^items\[1\]: EgressNetwork e is invalid/);
  });

  it('warns about unknown fields and drops them', () => {
    const text = `apiVersion: policy.linkerd.io/v1alpha1
kind: EgressNetwork
metadata: {name: e}
spec:
  trafficPolicy: Allow
  trafficpolicy: Deny
`;
    const result = parseManifests(text, 'w.yaml', { kinds });
    expect(result.objects[0]!.object.spec).toEqual({ trafficPolicy: 'Allow' });
    expect(result.warnings[0]).toMatchObject({ field: 'spec.trafficpolicy', line: 6 });
    expect(result.objects[0]!.kind).toBe(MeshKinds.EgressNetwork);
  });

  it('never throws on arbitrary text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const result = parseManifests(text, 'fuzz.yaml', { kinds });
        for (const e of result.errors) expect(e.file).toBe('fuzz.yaml');
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        parseManifests(
          JSON.stringify({
            apiVersion: 'policy.linkerd.io/v1beta3',
            kind: 'Server',
            metadata: { name: 'x' },
            spec: value,
          }),
          'f.json',
          { kinds },
        );
      }),
      { numRuns: 300 },
    );
  });
});
