// The mutating admission handler: a pod being created is run through inject() with its
// namespace (read from the API, for `linkerd.io/inject` and `config.linkerd.io/*` set there) and
// the JSON patch goes back to the apiserver. Skips are answered with "allowed, no patch" and
// counted; Linkerd's proxy_inject_admission_* metrics and Injected/InjectionSkipped events. A pod
// whose proxy cannot be rendered (inject() reports `failed`) is refused with the reason.
import { INJECT_ANNOTATION, MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  allow,
  deny,
  silentLogger,
  type AdmissionDecision,
  type AdmissionHandler,
  type AdmissionRequest,
  type Logger,
} from '@tsmesh/kube';
import { Counter, type Registry } from 'prom-client';
import type { InjectorConfig } from '../config/index.js';
import {
  annotateServiceOpaquePorts,
  inject,
  ownerOf,
  type NamespaceLike,
  type Workload,
} from '../inject/index.js';

/** A Kubernetes Event the injector records on the pod's owner. */
export interface InjectorEvent {
  reason: 'Injected' | 'InjectionSkipped';
  type: 'Normal';
  message: string;
  namespace: string;
  involvedObject: { kind: string; name: string; namespace: string; apiVersion?: string };
}

export interface InjectorHandlerOptions {
  config: InjectorConfig;
  /** The pod's namespace, for its annotations (undefined when it cannot be found). */
  getNamespace: (name: string, signal: AbortSignal) => Promise<NamespaceLike | undefined>;
  registry?: Registry;
  logger?: Logger;
  /** Called (not awaited) for every injected or skipped pod that is not a dry run. */
  recordEvent?: (event: InjectorEvent) => void;
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

const OWNER_API_VERSIONS: Record<string, string> = {
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  ReplicationController: 'v1',
  Pod: 'v1',
};

export function createInjectorHandler(options: InjectorHandlerOptions): AdmissionHandler {
  const logger = options.logger ?? silentLogger;
  const metrics = options.registry
    ? {
        requests: counter(
          options.registry,
          'proxy_inject_admission_requests_total',
          'A counter for number of admission requests to proxy injector.',
          ['owner_kind', 'namespace', 'annotation_at'],
        ),
        responses: counter(
          options.registry,
          'proxy_inject_admission_responses_total',
          'A counter for number of admission responses from proxy injector.',
          ['owner_kind', 'namespace', 'skip', 'skip_reason', 'annotation_at'],
        ),
      }
    : undefined;

  return async (request: AdmissionRequest, { signal }): Promise<AdmissionDecision> => {
    const kind = request.kind?.kind;
    if ((kind !== 'Pod' && kind !== 'Service') || request.operation !== 'CREATE' || !request.object) {
      return allow();
    }
    const pod = request.object as Workload;
    const namespaceName = request.namespace || pod.metadata?.namespace || 'default';
    let namespace: NamespaceLike | undefined;
    try {
      namespace = await options.getNamespace(namespaceName, signal);
    } catch (err) {
      // An error makes the apiserver apply failurePolicy (Ignore: the pod is created unmeshed).
      throw new MeshError(MeshErrorCode.Unavailable, `cannot read namespace ${namespaceName}`, {
        cause: err,
      });
    }
    if (kind === 'Service') {
      const patch = annotateServiceOpaquePorts(pod, options.config, namespace).patch;
      return allow(patch.length ? patch : undefined);
    }
    const withNs: Workload = { ...pod, metadata: { ...pod.metadata, namespace: namespaceName } };
    const owner = ownerOf(withNs) ?? {
      kind: 'Pod',
      name: pod.metadata?.name ?? pod.metadata?.generateName ?? '',
    };
    const annotationAt = pod.metadata?.annotations?.[INJECT_ANNOTATION]
      ? 'workload'
      : namespace?.metadata?.annotations?.[INJECT_ANNOTATION]
        ? 'namespace'
        : '';
    const labels = {
      owner_kind: owner.kind.toLowerCase(),
      namespace: namespaceName,
      annotation_at: annotationAt,
    };
    metrics?.requests.inc(labels);

    // The pod object may lack metadata.namespace; inject with it set, patch against the original.
    const result = inject(
      pod,
      options.config,
      { metadata: { ...namespace?.metadata, name: namespaceName } },
      { writeOpaquePortsAnnotation: true },
    );
    const entry = result.report.entries[0];
    if (entry?.status === 'failed') {
      // Linkerd's injector answers a proxy it cannot render with an error, which refuses the pod
      // (failurePolicy applies only to a webhook that cannot be reached).
      logger.warn(
        { uid: request.uid, namespace: namespaceName, owner: `${owner.kind}/${owner.name}` },
        `injection refused: ${entry.message}`,
      );
      return deny(`linkerd-proxy-injector: ${entry.message}`, 400, 'BadRequest');
    }
    const skipped = entry?.status !== 'injected';
    metrics?.responses.inc({
      ...labels,
      skip: String(skipped),
      skip_reason: skipped ? (entry?.reason ?? '') : '',
    });
    logger.info(
      {
        uid: request.uid,
        namespace: namespaceName,
        owner: `${owner.kind}/${owner.name}`,
        status: entry?.status,
        reason: entry?.reason,
        dryRun: request.dryRun === true,
      },
      skipped ? 'injection skipped' : 'proxy injected',
    );
    if (
      !request.dryRun &&
      options.recordEvent &&
      !(skipped && entry?.reason === 'injection_enable_annotation_absent')
    ) {
      options.recordEvent({
        reason: skipped ? 'InjectionSkipped' : 'Injected',
        type: 'Normal',
        message: skipped
          ? `Linkerd sidecar proxy injection skipped: ${entry?.message ?? entry?.reason ?? 'unknown reason'}`
          : 'Linkerd sidecar proxy injected',
        namespace: namespaceName,
        involvedObject: {
          kind: owner.kind,
          name: owner.name,
          namespace: namespaceName,
          apiVersion: OWNER_API_VERSIONS[owner.kind],
        },
      });
    }
    const warnings = entry?.warnings.length ? [...entry.warnings] : undefined;
    return allow(result.patch.length ? result.patch : undefined, warnings);
  };
}
