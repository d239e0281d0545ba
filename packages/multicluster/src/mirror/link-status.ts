// The Link's status, as Linkerd's service mirror writes it (v1alpha2+): one entry per selected
// remote Service in `mirrorServices` and `federatedServices` (controllerName
// linkerd.io/service-mirror, remoteRef), each with one `Mirrored` condition: True with the local
// Service as localRef, or False saying why (the namespace is missing here; a headless Service
// cannot join a federated one). A condition keeps its lastTransitionTime while it stays the same.
import type { Link } from '../link/index.js';
import { federatedServiceName, mirrorServiceName, type SelectedService } from './desired-mirrors.js';

export const SERVICE_MIRROR_CONTROLLER = 'linkerd.io/service-mirror';

interface Ref {
  group: string;
  kind: string;
  name: string;
  namespace: string;
}

export interface MirrorStatusEntry {
  controllerName: string;
  remoteRef: Ref;
  conditions: {
    type: 'Mirrored';
    status: 'True' | 'False';
    reason: string;
    message: string;
    lastTransitionTime: string;
    localRef?: Ref;
  }[];
}

export interface LinkStatus {
  mirrorServices: MirrorStatusEntry[];
  federatedServices: MirrorStatusEntry[];
}

const service = (namespace: string, name: string): Ref => ({ group: '', kind: 'Service', name, namespace });

export function linkStatus(
  link: Link,
  selected: readonly SelectedService[],
  previous: LinkStatus | undefined,
  now: Date,
): LinkStatus {
  const entry = (
    section: 'mirrorServices' | 'federatedServices',
    s: SelectedService,
    localName: string,
  ): MirrorStatusEntry => {
    const ok =
      s.outcome === 'mirrored' || (section === 'mirrorServices' && s.outcome === 'headless-not-federated');
    const reason = ok
      ? 'Mirrored'
      : s.outcome === 'missing-namespace'
        ? 'MissingNamespace'
        : 'InvalidService';
    const message = ok
      ? ''
      : s.outcome === 'missing-namespace'
        ? `namespace ${s.namespace} does not exist in this cluster`
        : 'a headless Service cannot join a federated Service';
    const before = previous?.[section].find(
      (e) => e.remoteRef.namespace === s.namespace && e.remoteRef.name === s.name,
    )?.conditions[0];
    const same = before?.status === (ok ? 'True' : 'False') && before.reason === reason;
    return {
      controllerName: SERVICE_MIRROR_CONTROLLER,
      remoteRef: service(s.namespace, s.name),
      conditions: [
        {
          type: 'Mirrored',
          status: ok ? 'True' : 'False',
          reason,
          message,
          lastTransitionTime:
            same && before ? before.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z'),
          ...(ok ? { localRef: service(s.namespace, localName) } : {}),
        },
      ],
    };
  };
  const byName = (a: MirrorStatusEntry, b: MirrorStatusEntry) =>
    `${a.remoteRef.namespace}/${a.remoteRef.name}`.localeCompare(
      `${b.remoteRef.namespace}/${b.remoteRef.name}`,
    );
  return {
    mirrorServices: selected
      .filter((s) => s.mirror)
      .map((s) => entry('mirrorServices', s, mirrorServiceName(s.name, link.targetClusterName)))
      .sort(byName),
    federatedServices: selected
      .filter((s) => s.federate)
      .map((s) => entry('federatedServices', s, federatedServiceName(s.name)))
      .sort(byName),
  };
}
