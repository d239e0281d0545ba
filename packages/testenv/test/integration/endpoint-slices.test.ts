import { CoreV1Api, DiscoveryV1Api, type V1EndpointSlice } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { ensureTestNode, markPodRunning } from '../../src/index.js';
import { kubeTest } from '../../src/vitest.js';

kubeTest(
  'kube-controller-manager builds EndpointSlices for a Service from pods made Ready through pods/status',
  async ({ kubeConfig, namespace }) => {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    const node = await ensureTestNode(kubeConfig);

    const svc = await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
    });
    // ClusterIPs come from the test service range, never 10.x.
    expect(svc.spec?.clusterIP).toMatch(/^198\.19\./);

    const ips = ['198.18.10.1', '198.18.10.2'];
    for (const [i, ip] of ips.entries()) {
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: `web-${i}`, labels: { app: 'web' } },
          // Bound to the kubelet-less node: never runs; its status is what we write.
          spec: {
            nodeName: node,
            containers: [{ name: 'app', image: 'registry.invalid/web:1', ports: [{ containerPort: 8080 }] }],
          },
        },
      });
      await markPodRunning(kubeConfig, { namespace, name: `web-${i}`, podIP: ip });
    }

    const readyAddresses = async (): Promise<string[]> => {
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace,
        labelSelector: 'kubernetes.io/service-name=web',
      });
      return slices.items
        .flatMap((s: V1EndpointSlice) =>
          s.endpoints.filter((e) => e.conditions?.ready).flatMap((e) => e.addresses),
        )
        .sort();
    };
    await expect.poll(readyAddresses, { timeout: 20_000, interval: 100 }).toEqual(ips);

    const slices = await discovery.listNamespacedEndpointSlice({
      namespace,
      labelSelector: 'kubernetes.io/service-name=web',
    });
    const slice = slices.items[0]!;
    expect(slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by']).toBe(
      'endpointslice-controller.k8s.io',
    );
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice.endpoints.find((e) => e.addresses[0] === ips[0])?.targetRef?.name).toBe('web-0');
    expect(slice.endpoints.every((e) => e.nodeName === node)).toBe(true);

    // A pod going unready is reflected too.
    await markPodRunning(kubeConfig, { namespace, name: 'web-1', podIP: ips[1]!, ready: false });
    await expect.poll(readyAddresses, { timeout: 20_000, interval: 100 }).toEqual([ips[0]]);
  },
);
