import { describe, expect, it } from 'vitest';
import { deriveEndpointSlices, SERVICE_NAME_LABEL } from './endpoints-controller.js';
import { buildPod } from './pod-registry.js';

const pod = (
  name: string,
  ip: string,
  labels: Record<string, string>,
  ports = [{ port: 9000, name: 'grpc' }],
) =>
  buildPod({
    workload: name,
    namespace: 'shop',
    serviceAccount: name,
    ports,
    labels,
    podIP: ip,
    podName: name,
  });

const service = (
  name: string,
  selector: Record<string, string> | undefined,
  targetPort: number | string,
) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { ...(selector ? { selector } : {}), ports: [{ name: 'grpc', port: 8080, targetPort }] },
});

describe('deriveEndpointSlices', () => {
  it('selects Running pods of the namespace by label and resolves numeric and named target ports', () => {
    const pods = [pod('a', '127.0.1.1', { app: 'cart' }), pod('b', '127.0.1.2', { app: 'other' })];
    for (const targetPort of [9000, 'grpc']) {
      const [slice, ...rest] = deriveEndpointSlices([service('cart', { app: 'cart' }, targetPort)], pods);
      expect(rest).toHaveLength(0);
      expect(slice!.metadata!.labels![SERVICE_NAME_LABEL]).toBe('cart');
      expect(slice!.ports).toEqual([{ name: 'grpc', port: 9000, protocol: 'TCP' }]);
      expect(slice!.endpoints).toEqual([
        expect.objectContaining({
          addresses: ['127.0.1.1'],
          conditions: { ready: true, serving: true, terminating: false },
          targetRef: expect.objectContaining({ kind: 'Pod', name: 'a', namespace: 'shop' }),
        }),
      ]);
    }
  });

  it('leaves selector-less Services alone and skips pods without the named port', () => {
    const pods = [pod('a', '127.0.1.1', { app: 'cart' }, [{ port: 9000, name: 'http' }])];
    expect(deriveEndpointSlices([service('manual', undefined, 9000)], pods)).toEqual([]);
    const [slice] = deriveEndpointSlices([service('cart', { app: 'cart' }, 'grpc')], pods);
    expect(slice!.ports).toEqual([]);
  });

  it('groups pods whose named port resolves differently into separate slices', () => {
    const pods = [
      pod('a', '127.0.1.1', { app: 'cart' }, [{ port: 9000, name: 'grpc' }]),
      pod('b', '127.0.1.2', { app: 'cart' }, [{ port: 9001, name: 'grpc' }]),
    ];
    const slices = deriveEndpointSlices([service('cart', { app: 'cart' }, 'grpc')], pods);
    expect(slices.map((s) => (s.ports as { port: number }[])[0]!.port).sort()).toEqual([9000, 9001]);
    expect(new Set(slices.map((s) => s.metadata!.name)).size).toBe(2);
  });
});
