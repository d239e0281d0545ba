// `tsmesh demo --kubernetes`: the demo for a cluster is valid YAML with the namespace annotated for
// injection, one Deployment per workload running the CLI image, and the same Services and policy
// as the local demo (on the pods' port).
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runProgram } from '../commands/cli.test-support.js';
import { DEMO_CLUSTER_PORT, demoClusterManifests } from './demo-manifests.js';

describe('demoClusterManifests', () => {
  const yaml = demoClusterManifests({ image: 'ghcr.io/tsmesh/cli:0.1.0', imagePullPolicy: 'Never' });
  const objects = parseAllDocuments(yaml).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as {
      kind: string;
      metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
      spec?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
  });

  it('annotates the namespace for injection and runs each workload from the CLI image', () => {
    expect(objects[0]).toMatchObject({
      kind: 'Namespace',
      metadata: { name: 'emojivoto', annotations: { 'linkerd.io/inject': 'enabled' } },
    });
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name)).toEqual(['web', 'emoji', 'voting', 'vote-bot']);
    for (const d of deployments) {
      const [container] = d.spec!.template.spec.containers;
      expect(container).toMatchObject({
        image: 'ghcr.io/tsmesh/cli:0.1.0',
        imagePullPolicy: 'Never',
        command: ['tsmesh', 'demo-app', d.metadata.name],
      });
      expect(d.spec!.template.spec.serviceAccountName).toBe(d.metadata.name);
    }
  });

  it('points the Services and Servers at the pods port', () => {
    const services = objects.filter((o) => o.kind === 'Service');
    expect(services.map((s) => [s.metadata.name, s.spec!.ports[0].targetPort])).toEqual([
      ['web-svc', DEMO_CLUSTER_PORT],
      ['emoji-svc', DEMO_CLUSTER_PORT],
      ['voting-svc', DEMO_CLUSTER_PORT],
    ]);
    const servers = objects.filter((o) => o.kind === 'Server');
    expect(servers.map((s) => s.spec!.port)).toEqual([DEMO_CLUSTER_PORT, DEMO_CLUSTER_PORT]);
    expect(objects.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'emojivoto')).toBe(true);
  });
});

describe('tsmesh demo --kubernetes', () => {
  it("prints the manifests on the program's output; an unknown pull policy fails naming the flag", async () => {
    const r = await runProgram([
      'demo',
      '--kubernetes',
      '--image',
      'example/cli:1',
      '--image-pull-policy',
      'Never',
    ]);
    expect(r).toEqual({
      out: demoClusterManifests({ image: 'example/cli:1', imagePullPolicy: 'Never' }),
      err: '',
      exitCode: 0,
    });
    const bad = await runProgram(['demo', '--kubernetes', '--image-pull-policy', 'Sometimes']);
    expect(bad.exitCode).toBe(1);
    expect(bad.err).toContain('--image-pull-policy');
  });
});
