import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { loadKubeConfig, statusOf } from './test-namespace.js';

/** Name of the Node {@link ensureTestNode} creates by default. */
export const DEFAULT_TEST_NODE = 'testenv-node';

/**
 * Creates (if missing) a Node object with no kubelet behind it. Pods bound to it (`spec.nodeName`)
 * are never scheduled or run; their status is whatever the test writes with
 * {@link markPodRunning}. The EndpointSlice controller needs it: it skips pods whose node does not
 * exist. Idempotent; returns the node name.
 */
export async function ensureTestNode(
  kubeconfig: KubeConfig | string,
  name = DEFAULT_TEST_NODE,
): Promise<string> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api);
  try {
    await core.createNode({
      body: {
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
        spec: {},
      },
    });
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
  return name;
}

export interface MarkPodRunningOptions {
  namespace: string;
  name: string;
  /** The pod IP: data only, never dialled. Use 198.18.0.0/16 (loopback is rejected by EndpointSlice validation). */
  podIP: string;
  /** Default true: conditions Ready and ContainersReady are True. */
  ready?: boolean;
}

/**
 * Writes the status a kubelet would (phase Running, podIP(s), Ready conditions, running container
 * statuses) through the `pods/status` subresource. The pod should be bound to a node
 * ({@link ensureTestNode}) for the EndpointSlice controller to pick it up.
 */
export async function markPodRunning(
  kubeconfig: KubeConfig | string,
  options: MarkPodRunningOptions,
): Promise<V1Pod> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api);
  const ready = options.ready ?? true;
  const now = new Date();
  const pod = await core.readNamespacedPod({ name: options.name, namespace: options.namespace });
  const condition = (type: string, status: boolean) => ({
    type,
    status: status ? 'True' : 'False',
    lastTransitionTime: now,
  });
  pod.status = {
    ...pod.status,
    phase: 'Running',
    podIP: options.podIP,
    podIPs: [{ ip: options.podIP }],
    startTime: now,
    conditions: [
      condition('PodScheduled', true),
      condition('Initialized', true),
      condition('ContainersReady', ready),
      condition('Ready', ready),
    ],
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: now } },
    })),
  };
  return core.replaceNamespacedPodStatus({ name: options.name, namespace: options.namespace, body: pod });
}
