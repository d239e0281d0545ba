// The compact workload form of local mode: one `kind: Workload` document (API group
// local.tsmesh.io) stands for the three objects a cluster would hold for a small app — its
// ServiceAccount, a Pod (the declared shape; `tsmesh run` registers the running instances) and a
// Service selecting it. Expansion is pure; a bad Workload yields problems naming the field.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { extname, join, relative, sep } from 'node:path';
import { CoreKinds, ManifestError, parseManifests, type KubeObject, type ResourceKind } from '@tsmesh/kube';

export const WORKLOAD_API_GROUP = 'local.tsmesh.io';

export const WorkloadKind: ResourceKind = Object.freeze({
  group: WORKLOAD_API_GROUP,
  version: 'v1alpha1',
  kind: 'Workload',
  plural: 'workloads',
  namespaced: true,
  servedVersions: Object.freeze(['v1alpha1']),
});

/** Label on every object expanded from a Workload, naming it. */
export const EXPANDED_FROM_LABEL = 'local.tsmesh.io/workload';

export interface WorkloadFormPort {
  readonly port: number;
  readonly name?: string;
  readonly targetPort?: number;
  readonly appProtocol?: string;
  readonly opaque?: boolean;
}

export interface WorkloadFormSpec {
  readonly serviceAccount: string;
  readonly ports: readonly WorkloadFormPort[];
  readonly labels: Readonly<Record<string, string>>;
  readonly clusterIP?: string;
}

/** One problem of a Workload document: the field at fault, what is wrong, how to fix it. */
export interface WorkloadProblem {
  readonly field: string;
  readonly message: string;
  readonly hint: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/;
const SPEC_FIELDS = new Set(['serviceAccount', 'ports', 'labels', 'clusterIP']);
const PORT_FIELDS = new Set(['port', 'name', 'targetPort', 'appProtocol', 'opaque']);

const isPort = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

/** Checks a Workload's spec; the problems are empty when it is valid. */
export function validateWorkload(object: KubeObject): {
  spec?: WorkloadFormSpec;
  problems: WorkloadProblem[];
} {
  const problems: WorkloadProblem[] = [];
  const bad = (field: string, message: string, hint: string) => problems.push({ field, message, hint });
  const spec = (object as { spec?: unknown }).spec;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    bad('spec', 'a Workload needs a spec', 'spec: {ports: [{port: 8080}]}');
    return { problems };
  }
  const s = spec as Record<string, unknown>;
  for (const key of Object.keys(s))
    if (!SPEC_FIELDS.has(key))
      bad(`spec.${key}`, `unknown field ${key}`, `known fields: ${[...SPEC_FIELDS].join(', ')}`);
  const serviceAccount = s.serviceAccount ?? object.metadata?.name;
  if (typeof serviceAccount !== 'string' || !DNS_LABEL.test(serviceAccount))
    bad('spec.serviceAccount', 'invalid ServiceAccount name', 'a DNS label (lower-case letters, digits, -)');
  const ports: WorkloadFormPort[] = [];
  if (!Array.isArray(s.ports) || s.ports.length === 0)
    bad('spec.ports', 'a Workload needs at least one port', 'ports: [{port: 8080, name: http}]');
  else
    s.ports.forEach((raw: unknown, i) => {
      const at = `spec.ports[${i}]`;
      if (typeof raw !== 'object' || raw === null) {
        bad(at, 'a port must be a mapping', '{port: 8080, name: http}');
        return;
      }
      const p = raw as Record<string, unknown>;
      for (const key of Object.keys(p))
        if (!PORT_FIELDS.has(key))
          bad(`${at}.${key}`, `unknown field ${key}`, `known fields: ${[...PORT_FIELDS].join(', ')}`);
      if (!isPort(p.port)) bad(`${at}.port`, 'invalid port', 'a port number from 1 to 65535');
      if (p.targetPort !== undefined && !isPort(p.targetPort))
        bad(`${at}.targetPort`, 'invalid targetPort', 'a port number from 1 to 65535');
      if (p.name !== undefined && (typeof p.name !== 'string' || !PORT_NAME.test(p.name)))
        bad(`${at}.name`, 'invalid port name', 'at most 15 lower-case letters, digits and -');
      if (p.appProtocol !== undefined && typeof p.appProtocol !== 'string')
        bad(
          `${at}.appProtocol`,
          'appProtocol must be a string',
          'e.g. http, kubernetes.io/h2c, linkerd.io/opaque',
        );
      if (p.opaque !== undefined && typeof p.opaque !== 'boolean')
        bad(`${at}.opaque`, 'opaque must be true or false', 'opaque: true marks an opaque port');
      ports.push(p as unknown as WorkloadFormPort);
    });
  if (ports.length > 1 && ports.some((p) => p.name === undefined))
    bad(
      'spec.ports',
      'every port needs a name when there are several',
      'name each port: {port: 8080, name: http}',
    );
  const names = ports.map((p) => p.name).filter((n) => n !== undefined);
  if (new Set(names).size !== names.length)
    bad('spec.ports', 'port names must be unique', 'give each port its own name');
  const labels = s.labels ?? {};
  if (
    typeof labels !== 'object' ||
    labels === null ||
    Array.isArray(labels) ||
    Object.values(labels).some((v) => typeof v !== 'string')
  )
    bad('spec.labels', 'labels must map names to strings', 'labels: {version: v1}');
  if (s.clusterIP !== undefined && (typeof s.clusterIP !== 'string' || !isIPv4(s.clusterIP)))
    bad('spec.clusterIP', 'invalid clusterIP', 'an IPv4 address, e.g. from 198.18.0.0/15');
  if (problems.length > 0) return { problems };
  return {
    spec: {
      serviceAccount: serviceAccount as string,
      ports,
      labels: labels as Record<string, string>,
      ...(s.clusterIP !== undefined ? { clusterIP: s.clusterIP as string } : {}),
    },
    problems,
  };
}

export interface ExpandedObject {
  readonly kind: ResourceKind;
  readonly object: KubeObject;
}

/** ServiceAccount, Pod and Service for a valid Workload spec. */
export function expandWorkload(object: KubeObject, spec: WorkloadFormSpec): ExpandedObject[] {
  const name = object.metadata!.name!;
  const namespace = object.metadata?.namespace ?? 'default';
  const marker = { [EXPANDED_FROM_LABEL]: name };
  const appLabels = { app: name };
  const opaque = spec.ports.filter((p) => p.opaque).map((p) => p.targetPort ?? p.port);
  const serviceAccount: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: spec.serviceAccount, namespace, labels: marker },
  };
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { ...spec.labels, ...appLabels, ...marker },
      ...(opaque.length > 0 ? { annotations: { 'config.linkerd.io/opaque-ports': opaque.join(',') } } : {}),
    },
    spec: {
      serviceAccountName: spec.serviceAccount,
      containers: [
        {
          name,
          ports: spec.ports.map((p) => ({
            containerPort: p.targetPort ?? p.port,
            protocol: 'TCP',
            ...(p.name ? { name: p.name } : {}),
          })),
        },
      ],
    },
    // Declared, not running: `tsmesh run --workload NAME` registers the running instances.
    status: { phase: 'Pending' },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      labels: marker,
      ...(opaque.length > 0
        ? {
            annotations: {
              'config.linkerd.io/opaque-ports': spec.ports
                .filter((p) => p.opaque)
                .map((p) => p.port)
                .join(','),
            },
          }
        : {}),
    },
    spec: {
      selector: appLabels,
      type: 'ClusterIP',
      ...(spec.clusterIP ? { clusterIP: spec.clusterIP, clusterIPs: [spec.clusterIP] } : {}),
      ports: spec.ports.map((p) => ({
        port: p.port,
        targetPort: p.targetPort ?? p.port,
        protocol: 'TCP',
        ...(p.name ? { name: p.name } : {}),
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      })),
    },
  };
  return [
    { kind: CoreKinds.ServiceAccount, object: serviceAccount },
    { kind: CoreKinds.Pod, object: pod },
    { kind: CoreKinds.Service, object: service },
  ];
}

/**
 * Where a Workload is defined: the file (relative to dir) and 1-based document, found by reading
 * the directory again — only done for a Workload that has problems.
 */
export function locateWorkload(
  dir: string,
  namespace: string,
  name: string,
): { file: string; document: number; line: number } | undefined {
  const files: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const entry of entries.sort()) {
      if (entry.startsWith('.')) continue;
      const path = join(d, entry);
      try {
        if (statSync(path).isDirectory()) walk(path);
        else if (['.yaml', '.yml', '.json'].includes(extname(entry))) files.push(path);
      } catch {
        // removed meanwhile
      }
    }
  };
  walk(dir);
  for (const path of files) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    if (!text.includes('Workload')) continue;
    const file = relative(dir, path).split(sep).join('/');
    const parsed = parseManifests(text, file, { kinds: [WorkloadKind] });
    const hit = parsed.objects.find(
      (o) => o.object.metadata?.name === name && (o.object.metadata?.namespace ?? 'default') === namespace,
    );
    if (hit) return { file, document: hit.document, line: hit.line };
  }
  return undefined;
}

/**
 * Expands every Workload; a Workload with problems is skipped and reported as ManifestErrors
 * (file, document, field), while the others keep serving.
 */
export function expandWorkloads(
  workloads: readonly KubeObject[],
  dir: string,
): { objects: ExpandedObject[]; errors: ManifestError[] } {
  const objects: ExpandedObject[] = [];
  const errors: ManifestError[] = [];
  const valid: { workload: KubeObject; spec: WorkloadFormSpec }[] = [];
  for (const workload of workloads) {
    const { spec, problems } = validateWorkload(workload);
    if (spec) {
      valid.push({ workload, spec });
      continue;
    }
    const namespace = workload.metadata?.namespace ?? 'default';
    const name = workload.metadata?.name ?? '';
    const where = locateWorkload(dir, namespace, name) ?? {
      file: `Workload ${namespace}/${name}`,
      document: 0,
    };
    for (const p of problems)
      errors.push(
        new ManifestError(`Workload ${namespace}/${name}: ${p.message}; the Workload is skipped`, {
          reason: 'schema',
          file: where.file,
          document: where.document,
          ...('line' in where ? { line: where.line } : {}),
          field: p.field,
          hint: p.hint,
        }),
      );
  }
  const clusterIPs = assignClusterIPs(
    valid.map(({ workload, spec }) => ({ key: keyOf(workload), clusterIP: spec.clusterIP })),
  );
  for (const { workload, spec } of valid)
    objects.push(...expandWorkload(workload, { ...spec, clusterIP: clusterIPs.get(keyOf(workload)) }));
  return { objects, errors };
}

const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;

/** Where Workloads without a clusterIP get one (as an API server assigns them): 198.18.128.0/17. */
export const WORKLOAD_CLUSTER_IP_RANGE = Object.freeze({
  base: 198 * 2 ** 24 + 18 * 2 ** 16 + 128 * 2 ** 8,
  size: 2 ** 15,
});

/**
 * clusterIPs for Workloads: the given one, else one derived from the namespace/name (stable across
 * restarts and edits), the next free address on a collision (in name order, so the outcome does
 * not depend on file order). Never .0 or .255 of a /24.
 */
export function assignClusterIPs(
  entries: readonly { key: string; clusterIP?: string }[],
): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const e of entries)
    if (e.clusterIP) {
      out.set(e.key, e.clusterIP);
      taken.add(e.clusterIP);
    }
  const { base, size } = WORKLOAD_CLUSTER_IP_RANGE;
  for (const e of [...entries].filter((x) => !x.clusterIP).sort((a, b) => (a.key < b.key ? -1 : 1))) {
    let offset = createHash('sha256').update(e.key).digest().readUInt32BE(0) % size;
    for (let tries = 0; tries < size; tries++, offset = (offset + 1) % size) {
      const n = base + offset;
      const last = n & 0xff;
      const ip = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, last].join('.');
      if (last === 0 || last === 255 || taken.has(ip)) continue;
      taken.add(ip);
      out.set(e.key, ip);
      break;
    }
  }
  return out;
}
