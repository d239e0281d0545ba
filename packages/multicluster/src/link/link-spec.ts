// A Link (multicluster.linkerd.io, any served version) parsed once into a frozen, validated value
// with Linkerd's defaults filled in. Everything the service mirror and the CLI need comes from here;
// a Link that cannot work (no cluster name, a port that is not a port, a selector that does not
// parse) is refused with a MeshError naming the field, so a bad Link never reaches the controller.
import {
  MeshError,
  MeshErrorCode,
  parseDurationMs,
  parseLabelSelector,
  type LabelSelector,
} from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';

export interface ProbeSpec {
  readonly path: string;
  readonly port: number;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly failureThreshold: number;
}

export interface Link {
  /** metadata.name and metadata.namespace of the Link. */
  readonly name: string;
  readonly namespace: string;
  readonly targetClusterName: string;
  readonly targetClusterDomain: string;
  readonly targetClusterLinkerdNamespace: string;
  readonly clusterCredentialsSecret: string;
  /** Gateway addresses (the spec's comma-separated list); empty when the link has no gateway. */
  readonly gatewayAddresses: readonly string[];
  readonly gatewayPort: number | undefined;
  readonly gatewayIdentity: string;
  readonly probeSpec: ProbeSpec;
  /** undefined: the selector is absent or empty, which selects nothing (as Linkerd treats it). */
  readonly selector: LabelSelector | undefined;
  readonly remoteDiscoverySelector: LabelSelector | undefined;
  readonly federatedServiceSelector: LabelSelector | undefined;
  readonly excludedLabels: readonly string[];
  readonly excludedAnnotations: readonly string[];
}

/** Linkerd's defaults (CLI link-gen and chart values). */
export const LinkDefaults = Object.freeze({
  clusterDomain: 'cluster.local',
  linkerdNamespace: 'linkerd',
  gatewayPort: 4143,
  probePath: '/ready',
  probePort: 4191,
  probePeriod: '3s',
  probeTimeout: '30s',
  probeFailureThreshold: 3,
  selector: Object.freeze({ matchLabels: Object.freeze({ 'mirror.linkerd.io/exported': 'true' }) }),
  remoteDiscoverySelector: Object.freeze({
    matchLabels: Object.freeze({ 'mirror.linkerd.io/exported': 'remote-discovery' }),
  }),
  federatedServiceSelector: Object.freeze({
    matchLabels: Object.freeze({ 'mirror.linkerd.io/federated': 'member' }),
  }),
});

// The cluster name becomes part of Service names (`<svc>-<cluster>`) and label values.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function invalid(where: string, message: string, hint?: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, message, { where, ...(hint ? { hint } : {}) });
}

function optionalString(spec: Record<string, unknown>, field: string, where: string): string | undefined {
  const value = spec[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(`${where}.${field}`, 'must be a string');
  return value;
}

function port(text: string | number | undefined, where: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = typeof text === 'number' ? text : /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw invalid(where, `${JSON.stringify(text)} is not a port`, 'use a number from 1 to 65535');
  }
  return n;
}

function duration(text: string | undefined, where: string, fallback: string): number {
  const value = text ?? fallback;
  const ms = parseDurationMs(value);
  if (ms === undefined || ms <= 0) {
    throw invalid(where, `${JSON.stringify(value)} is not a positive duration`, 'e.g. 3s or 500ms');
  }
  return ms;
}

function selector(spec: Record<string, unknown>, field: string, where: string): LabelSelector | undefined {
  let parsed: LabelSelector;
  try {
    parsed = parseLabelSelector(spec[field], `${where}.${field}`);
  } catch (err) {
    throw invalid(`${where}.${field}`, (err as Error).message);
  }
  const empty = Object.keys(parsed.matchLabels).length + parsed.matchExpressions.length === 0;
  return empty ? undefined : parsed;
}

function stringList(spec: Record<string, unknown>, field: string, where: string): readonly string[] {
  const value = spec[field];
  if (value === undefined || value === null) return Object.freeze([]);
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw invalid(`${where}.${field}`, 'must be a list of strings');
  }
  return Object.freeze([...(value as string[])]);
}

function probeSpec(value: unknown, where: string): ProbeSpec {
  if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw invalid(where, 'must be an object');
  }
  const raw = (value ?? {}) as Record<string, unknown>;
  const text = (field: string) => {
    const v = raw[field];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' && typeof v !== 'number')
      throw invalid(`${where}.${field}`, 'must be a string');
    return String(v);
  };
  const threshold = text('failureThreshold');
  const failureThreshold = threshold === undefined ? LinkDefaults.probeFailureThreshold : Number(threshold);
  if (!/^\d+$/.test(threshold ?? '1') || failureThreshold < 1) {
    throw invalid(`${where}.failureThreshold`, `${JSON.stringify(threshold)} is not a positive integer`);
  }
  const path = text('path') ?? LinkDefaults.probePath;
  if (!path.startsWith('/')) throw invalid(`${where}.path`, `${JSON.stringify(path)} must start with /`);
  return Object.freeze({
    path,
    port: port(text('port'), `${where}.port`, LinkDefaults.probePort),
    periodMs: duration(text('period'), `${where}.period`, LinkDefaults.probePeriod),
    timeoutMs: duration(text('timeout'), `${where}.timeout`, LinkDefaults.probeTimeout),
    failureThreshold,
  });
}

/** Parses and validates a Link object (v1alpha1, v1alpha2 or v1alpha3). */
export function parseLink(object: KubeObject): Link {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace ?? '';
  const where = `Link ${namespace}/${name}`;
  const rawSpec = (object as { spec?: unknown }).spec;
  if (typeof rawSpec !== 'object' || rawSpec === null || Array.isArray(rawSpec)) {
    throw invalid(`${where}: spec`, 'is missing', 'create Links with `tsmesh multicluster link`');
  }
  const spec = rawSpec as Record<string, unknown>;
  const at = `${where}: spec`;
  const targetClusterName = optionalString(spec, 'targetClusterName', at);
  if (!targetClusterName) throw invalid(`${at}.targetClusterName`, 'is required');
  if (!DNS_LABEL.test(targetClusterName) || targetClusterName.length > 63) {
    throw invalid(
      `${at}.targetClusterName`,
      `${JSON.stringify(targetClusterName)} is not a DNS label`,
      'lower-case letters, digits and "-", at most 63 characters',
    );
  }
  const clusterCredentialsSecret = optionalString(spec, 'clusterCredentialsSecret', at);
  if (!clusterCredentialsSecret) {
    throw invalid(`${at}.clusterCredentialsSecret`, 'is required', 'name the Secret holding the kubeconfig');
  }
  const gatewayAddress = optionalString(spec, 'gatewayAddress', at);
  const gatewayAddresses = Object.freeze(
    (gatewayAddress ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== ''),
  );
  const rawPort = spec.gatewayPort;
  if (rawPort !== undefined && typeof rawPort !== 'string' && typeof rawPort !== 'number') {
    throw invalid(`${at}.gatewayPort`, 'must be a string');
  }
  const gatewayPort =
    gatewayAddresses.length > 0 || (rawPort !== undefined && rawPort !== '')
      ? port(rawPort === '' ? undefined : rawPort, `${at}.gatewayPort`, LinkDefaults.gatewayPort)
      : undefined;
  return Object.freeze({
    name,
    namespace,
    targetClusterName,
    targetClusterDomain: optionalString(spec, 'targetClusterDomain', at) ?? LinkDefaults.clusterDomain,
    targetClusterLinkerdNamespace:
      optionalString(spec, 'targetClusterLinkerdNamespace', at) ?? LinkDefaults.linkerdNamespace,
    clusterCredentialsSecret,
    gatewayAddresses,
    gatewayPort,
    gatewayIdentity: optionalString(spec, 'gatewayIdentity', at) ?? '',
    probeSpec: probeSpec(spec.probeSpec, `${at}.probeSpec`),
    selector: selector(spec, 'selector', at),
    remoteDiscoverySelector: selector(spec, 'remoteDiscoverySelector', at),
    federatedServiceSelector: selector(spec, 'federatedServiceSelector', at),
    excludedLabels: stringList(spec, 'excludedLabels', at),
    excludedAnnotations: stringList(spec, 'excludedAnnotations', at),
  });
}

/** True when `key` matches one of the patterns (exact, or a `*` wildcard such as `example.com/*`). */
export function matchesKeyPattern(key: string, patterns: readonly string[]): boolean {
  for (const pattern of patterns) {
    if (!pattern.includes('*')) {
      if (pattern === key) return true;
      continue;
    }
    const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
    if (re.test(key)) return true;
  }
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
