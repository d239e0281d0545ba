// inject() and uninject(): pure functions from a workload (Pod, Deployment, StatefulSet, DaemonSet,
// Job, CronJob, ReplicaSet, ReplicationController, or a List of them) to the patched workload, the
// JSON patch that makes it, and a report. The webhook and `tsmesh inject` both call them, so the
// two can never disagree. Inputs are never mutated.
import { createHash } from 'node:crypto';
import {
  ConfigAnnotation,
  INJECT_ANNOTATION,
  InjectedAnnotation,
  InjectionSkipReason,
  InjectMode,
  Label,
} from '@tsmesh/core';
import type { JsonPatchOperation } from '@tsmesh/kube';
import type { InjectorConfig } from '../config/index.js';
import { diffJson } from '../patch/index.js';
import { CONFIG_ANNOTATIONS, parsePortList, resolveProxyValues } from './proxy-values.js';
import {
  DEBUG_CONTAINER_NAME,
  debugContainer,
  INIT_CONTAINER_NAME,
  initContainer,
  INJECTED_VOLUMES,
  injectedVolumes,
  PROXY_CONTAINER_NAME,
  proxyContainer,
} from './sidecar-spec.js';
import {
  isRecord,
  OWNER_LABELS,
  ownerOf,
  podTemplateOf,
  podTemplateProblem,
  type Container,
  type NamespaceLike,
  type PodTemplate,
  type Workload,
} from './workload.js';

export interface InjectOptions {
  /**
   * Inject only where `linkerd.io/inject` is `enabled` or `ingress` on the pod template or, when
   * the template has none, on the namespace (the webhook's rule). Default true. With false
   * (`tsmesh inject --manual`) every injectable workload is injected unless it says `disabled`.
   */
  requireAnnotation?: boolean;
  /** The owner recorded as `linkerd.io/proxy-<kind>` for a bare Pod (default: its ownerReferences). */
  owner?: { kind: string; name: string };
  /**
   * Write `config.linkerd.io/opaque-ports` (the default opaque ports the pod exposes) on pods that
   * have none, as Linkerd's webhook does, for the destination service to read. uninject() cannot
   * tell it from one the user wrote, so it stays. Default false; the webhook sets it.
   */
  writeOpaquePortsAnnotation?: boolean;
}

/**
 * `failed`: the workload asks for something that cannot be rendered (Linkerd's proxy partial
 * fails); it is left unchanged, `message` says why, and the webhook refuses the pod.
 */
export type InjectStatus = 'injected' | 'uninjected' | 'skipped' | 'failed';

interface InjectReportEntryBase {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  /** Annotations that were ignored, and similar. */
  readonly warnings: readonly string[];
}

/** One workload's outcome; a `failed` one always says why. */
export type InjectReportEntry = InjectReportEntryBase &
  (
    | {
        readonly status: Exclude<InjectStatus, 'failed'>;
        /** Why a workload was skipped (Linkerd's report codes, or `not_injected` for uninject). */
        readonly reason?: InjectionSkipReason | 'not_injected';
        readonly message?: string;
      }
    | { readonly status: 'failed'; readonly reason?: undefined; readonly message: string }
  );

export interface InjectReport {
  readonly entries: readonly InjectReportEntry[];
  /** True when the object changed. */
  readonly changed: boolean;
}

export interface InjectResult<T extends Workload = Workload> {
  readonly object: T;
  /** JSON patch from the input to `object` (empty when nothing changed). */
  readonly patch: JsonPatchOperation[];
  readonly report: InjectReport;
}

const SKIP_MESSAGES: Record<InjectionSkipReason, string> = {
  host_network_enabled: 'hostNetwork is enabled: the proxy cannot intercept the host network',
  sidecar_already_exists: 'already injected: it has a linkerd-proxy container',
  unsupported_resource: 'not a workload with a pod template',
  injection_enable_annotation_absent: `neither the pod template nor its namespace has ${INJECT_ANNOTATION}: enabled`,
  injection_disable_annotation_present: `${INJECT_ANNOTATION} is disabled`,
  invalid_inject_annotation_at_workload: `the pod template's ${INJECT_ANNOTATION} is not enabled, ingress or disabled`,
  invalid_inject_annotation_at_ns: `the namespace's ${INJECT_ANNOTATION} is not enabled, ingress or disabled`,
  disabled_automount_service_account_token_account: 'automountServiceAccountToken is false',
  udp_ports_enabled: 'the pod exposes UDP ports',
};

/** `linkerd.io/trust-root-sha256`: hex SHA-256 of the trust anchors as configured. */
export function trustRootSha256(pem: string): string {
  return createHash('sha256').update(pem).digest('hex');
}

function hasProxy(template: PodTemplate): boolean {
  const named = (c: Container) => c.name === PROXY_CONTAINER_NAME;
  return (template.spec?.containers ?? []).some(named) || (template.spec?.initContainers ?? []).some(named);
}

function describe(workload: Workload, namespace: NamespaceLike | undefined) {
  return {
    kind: workload.kind ?? 'unknown',
    name: workload.metadata?.name ?? workload.metadata?.generateName ?? '',
    namespace: workload.metadata?.namespace ?? namespace?.metadata?.name,
  };
}

function injectMode(value: string | undefined): 'inject' | 'disabled' | 'invalid' | 'absent' {
  if (value === undefined || value === '') return 'absent';
  if (value === InjectMode.Enabled || value === InjectMode.Ingress) return 'inject';
  if (value === InjectMode.Disabled) return 'disabled';
  return 'invalid';
}

function skipReason(
  template: PodTemplate,
  namespace: NamespaceLike | undefined,
  requireAnnotation: boolean,
): InjectionSkipReason | undefined {
  if (hasProxy(template)) return InjectionSkipReason.SidecarAlreadyExists;
  if (template.spec?.hostNetwork === true) return InjectionSkipReason.HostNetworkEnabled;
  const atPod = injectMode(template.metadata?.annotations?.[INJECT_ANNOTATION]);
  if (atPod === 'disabled') return InjectionSkipReason.InjectionDisableAnnotationPresent;
  if (atPod === 'invalid') return InjectionSkipReason.InvalidInjectAnnotationAtWorkload;
  if (atPod === 'inject') return undefined;
  const atNs = injectMode(namespace?.metadata?.annotations?.[INJECT_ANNOTATION]);
  if (atNs === 'disabled') return InjectionSkipReason.InjectionDisableAnnotationPresent;
  if (atNs === 'invalid') return InjectionSkipReason.InvalidInjectAnnotationAtNamespace;
  if (atNs === 'absent' && requireAnnotation) return InjectionSkipReason.InjectionEnableAnnotationAbsent;
  return undefined;
}

function exposedPorts(template: PodTemplate): { ports: number[]; named: Map<string, number> } {
  const spec = template.spec ?? {};
  const containers = [
    ...(spec.containers ?? []),
    // Native sidecars of the app (init containers that keep running) serve traffic too.
    ...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ];
  const ports = new Set<number>();
  const named = new Map<string, number>();
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (typeof p.containerPort !== 'number') continue;
      ports.add(p.containerPort);
      if (p.name) named.set(p.name, p.containerPort);
    }
  }
  return { ports: [...ports], named };
}

function injectTemplate(
  template: PodTemplate,
  config: InjectorConfig,
  namespace: NamespaceLike | undefined,
  owner: { kind: string; name: string } | undefined,
  workloadNamespace: string | undefined,
  warn: (m: string) => void,
  writeOpaquePortsAnnotation: boolean,
): string | undefined {
  // Namespace config annotations the pod does not set itself are copied onto it (Linkerd does the same).
  const nsAnnotations = namespace?.metadata?.annotations ?? {};
  const annotations = { ...(template.metadata?.annotations ?? {}) };
  for (const key of [INJECT_ANNOTATION, ...CONFIG_ANNOTATIONS]) {
    if (Object.hasOwn(nsAnnotations, key) && !Object.hasOwn(annotations, key)) {
      annotations[key] = nsAnnotations[key] as string;
    }
  }
  const { ports, named } = exposedPorts(template);
  const values = resolveProxyValues(config, annotations, named, warn);
  if (values.conflict) return values.conflict;
  const meta = (template.metadata ??= {});
  const spec = (template.spec ??= {});
  const inboundPorts = ports.map(String).sort().join(',');
  let opaquePorts = values.opaquePortsOverride;
  if (opaquePorts === undefined) {
    const ranges = parsePortList(values.proxy.opaquePorts) ?? [];
    opaquePorts = ports
      .filter((p) => ranges.some((r) => p >= r.from && p <= r.to))
      .sort((a, b) => a - b)
      .join(',');
  }

  if (
    writeOpaquePortsAnnotation &&
    opaquePorts &&
    !Object.hasOwn(annotations, ConfigAnnotation.OpaquePorts)
  ) {
    annotations[ConfigAnnotation.OpaquePorts] = opaquePorts;
  }
  annotations[InjectedAnnotation.CreatedBy] = config.createdBy;
  annotations[InjectedAnnotation.ProxyVersion] = values.proxy.image.version;
  annotations[InjectedAnnotation.TrustRootSha256] = trustRootSha256(config.trustAnchorsPem);
  meta.annotations = annotations;
  const labels = { ...(meta.labels ?? {}) };
  labels[Label.ControlPlaneNamespace] = config.controlPlaneNamespace;
  const ownerLabel = owner ? OWNER_LABELS[owner.kind] : undefined;
  if (owner && ownerLabel) labels[ownerLabel] = owner.name;
  if (workloadNamespace) labels[Label.WorkloadNamespace] = workloadNamespace;
  meta.labels = labels;

  const proxy = proxyContainer(config, values, {
    inboundPorts,
    opaquePorts,
    component: owner?.kind === 'Deployment' ? owner.name : undefined,
  });
  const init = config.cniEnabled ? [] : [initContainer(values)];
  const appInit = spec.initContainers ?? [];
  const apps = spec.containers ?? [];
  if (values.proxy.nativeSidecar) {
    spec.initContainers = [...init, proxy, ...appInit];
    spec.containers = [...apps];
  } else {
    if (init.length || appInit.length) spec.initContainers = [...init, ...appInit];
    // With the await hook the proxy must come first: the kubelet starts containers in order and
    // holds the next one until the postStart hook returns.
    spec.containers = values.proxy.await ? [proxy, ...apps] : [...apps, proxy];
  }
  if (values.debugSidecar) spec.containers = [...spec.containers, debugContainer(values)];
  spec.volumes = [...(spec.volumes ?? []), ...injectedVolumes(config.cniEnabled)];
  return undefined;
}

function eachWorkload(
  workload: Workload,
  visit: (w: Workload, setItem?: (w: Workload) => void) => void,
): void {
  if (workload.kind === 'List' && Array.isArray(workload.items)) {
    for (const item of workload.items as unknown[]) if (isRecord(item)) visit(item as Workload);
    return;
  }
  visit(workload);
}

/**
 * Adds the proxy (and proxy-init, volumes, labels and annotations) to a workload or every workload
 * of a List. `namespace` is the namespace the workload lives in: its `linkerd.io/inject` and
 * `config.linkerd.io/*` annotations apply when the pod template has none of its own.
 */
export function inject<T extends Workload>(
  workload: T,
  config: InjectorConfig,
  namespace?: NamespaceLike,
  options: InjectOptions = {},
): InjectResult<T> {
  const object = structuredClone(workload);
  const entries: InjectReportEntry[] = [];
  eachWorkload(object, (w) => {
    const id = describe(w, namespace);
    const warnings: string[] = [];
    const template = podTemplateOf(w);
    const skip = (reason: InjectionSkipReason) =>
      entries.push({ ...id, status: 'skipped', reason, message: SKIP_MESSAGES[reason], warnings });
    if (!template) return skip(InjectionSkipReason.UnsupportedResource);
    const problem = podTemplateProblem(template);
    if (problem) {
      const reason = InjectionSkipReason.UnsupportedResource;
      return entries.push({ ...id, status: 'skipped', reason, message: `malformed: ${problem}`, warnings });
    }
    const reason = skipReason(template, namespace, options.requireAnnotation ?? true);
    if (reason) return skip(reason);
    const owner = w.kind === 'Pod' ? (options.owner ?? ownerOf(w)) : ownerOf(w);
    const failure = injectTemplate(
      template,
      config,
      namespace,
      owner,
      id.namespace,
      (m) => warnings.push(m),
      options.writeOpaquePortsAnnotation ?? false,
    );
    if (failure) return entries.push({ ...id, status: 'failed', message: failure, warnings });
    entries.push({ ...id, status: 'injected', warnings });
  });
  const patch = diffJson(workload, object);
  return { object, patch, report: { entries, changed: patch.length > 0 } };
}

const INJECTED_ANNOTATIONS: readonly string[] = [
  InjectedAnnotation.CreatedBy,
  InjectedAnnotation.ProxyVersion,
  InjectedAnnotation.TrustRootSha256,
  'linkerd.io/identity-mode',
];
const INJECTED_LABELS: readonly string[] = [
  Label.ControlPlaneNamespace,
  Label.WorkloadNamespace,
  ...Object.values(OWNER_LABELS),
];

function uninjectTemplate(template: PodTemplate): boolean {
  let changed = false;
  const spec = template.spec;
  const without = <X extends { name: string }>(
    list: X[] | undefined,
    names: readonly string[],
    set: (next: X[] | undefined) => void,
  ) => {
    if (!list) return;
    const kept = list.filter((x) => !names.includes(x.name));
    if (kept.length === list.length) return;
    changed = true;
    set(kept.length ? kept : undefined);
  };
  if (spec) {
    without(
      spec.containers,
      [PROXY_CONTAINER_NAME, DEBUG_CONTAINER_NAME],
      (next) => (spec.containers = next ?? []),
    );
    // linkerd-network-validator: what Linkerd adds instead of linkerd-init under its CNI plugin.
    without(
      spec.initContainers,
      [PROXY_CONTAINER_NAME, INIT_CONTAINER_NAME, 'linkerd-network-validator'],
      (next) => {
        if (next) spec.initContainers = next;
        else delete spec.initContainers;
      },
    );
    without(spec.volumes, INJECTED_VOLUMES, (next) => {
      if (next) spec.volumes = next;
      else delete spec.volumes;
    });
  }
  // Only what inject() writes goes; the user's own annotations (linkerd.io/inject among them) stay,
  // so that uninject gives the original back. (Linkerd's uninject also drops linkerd.io/inject.)
  const meta = template.metadata;
  if (meta && changed) {
    const drop = { annotations: INJECTED_ANNOTATIONS, labels: INJECTED_LABELS } as const;
    for (const key of ['annotations', 'labels'] as const) {
      const map = meta[key];
      if (!map) continue;
      for (const k of Object.keys(map)) if (drop[key].includes(k)) delete map[k];
      if (Object.keys(map).length === 0) delete meta[key];
    }
  }
  return changed;
}

/**
 * Removes what inject() added: containers, volumes, and the labels and annotations it writes.
 * uninject(inject(x).object).object equals x (when no namespace annotations were copied onto x).
 */
export function uninject<T extends Workload>(workload: T): InjectResult<T> {
  const object = structuredClone(workload);
  const entries: InjectReportEntry[] = [];
  eachWorkload(object, (w) => {
    const id = describe(w, undefined);
    const template = podTemplateOf(w);
    const problem = template ? podTemplateProblem(template) : undefined;
    if (!template || problem) {
      entries.push({
        ...id,
        status: 'skipped',
        reason: InjectionSkipReason.UnsupportedResource,
        message: problem ? `malformed: ${problem}` : SKIP_MESSAGES.unsupported_resource,
        warnings: [],
      });
      return;
    }
    if (uninjectTemplate(template)) entries.push({ ...id, status: 'uninjected', warnings: [] });
    else {
      entries.push({
        ...id,
        status: 'skipped',
        reason: 'not_injected',
        message: 'it has no linkerd-proxy container',
        warnings: [],
      });
    }
  });
  const patch = diffJson(workload, object);
  return { object, patch, report: { entries, changed: patch.length > 0 } };
}

/**
 * What `tsmesh inject` does without `--manual` (Linkerd's default): sets `linkerd.io/inject: enabled`
 * (unless `enable` is false) and the given `config.linkerd.io/*` annotations on each pod template
 * (or on a Namespace itself), for the webhook to act on when the workload is applied.
 */
export function annotate<T extends Workload>(
  workload: T,
  annotations: Readonly<Record<string, string>>,
  options: { enable?: boolean } = {},
): InjectResult<T> {
  const object = structuredClone(workload);
  const entries: InjectReportEntry[] = [];
  const add: Record<string, string> = { ...annotations };
  if (options.enable ?? true) add[INJECT_ANNOTATION] = InjectMode.Enabled;
  eachWorkload(object, (w) => {
    const id = describe(w, undefined);
    // A Namespace gets the annotations itself, so that every pod created in it is injected.
    const template = w.kind === 'Namespace' ? (w as PodTemplate) : podTemplateOf(w);
    const skip = (reason: InjectionSkipReason) =>
      entries.push({ ...id, status: 'skipped', reason, message: SKIP_MESSAGES[reason], warnings: [] });
    if (!template) return skip(InjectionSkipReason.UnsupportedResource);
    const problem = podTemplateProblem(template);
    if (problem) {
      const reason = InjectionSkipReason.UnsupportedResource;
      return entries.push({
        ...id,
        status: 'skipped',
        reason,
        message: `malformed: ${problem}`,
        warnings: [],
      });
    }
    if (hasProxy(template)) return skip(InjectionSkipReason.SidecarAlreadyExists);
    if (template.spec?.hostNetwork === true) return skip(InjectionSkipReason.HostNetworkEnabled);
    if (Object.keys(add).length) {
      const meta = (template.metadata ??= {});
      meta.annotations = { ...(meta.annotations ?? {}), ...add };
    }
    entries.push({ ...id, status: 'injected', warnings: [] });
  });
  const patch = diffJson(workload, object);
  return { object, patch, report: { entries, changed: patch.length > 0 } };
}
