// SPIFFE IDs for Kubernetes workloads: `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`, carried as a URI
// SAN beside Linkerd's DNS identity so SPIFFE-aware peers can read the same identity. The trust
// domain must also be a DNS name (the SPIFFE spec allows '_', Linkerd's DNS form cannot), and the
// control-plane namespace of the DNS form is not part of the SPIFFE ID, so converting back needs it.
import { MeshErrorCode } from '../errors/index.js';
import { assertDnsLabel, assertDnsName, dnsLabelProblem, dnsNameProblem } from './dns-name.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';
import {
  DEFAULT_CONTROL_PLANE_NAMESPACE,
  formatIdentityName,
  parseIdentityName,
  type IdentityName,
  type NameParseOptions,
} from './identity-name.js';

export const SPIFFE_SCHEME = 'spiffe://';

/** The parts of a Kubernetes workload SPIFFE ID. An `IdentityName` is also a `SpiffeId`. */
export interface SpiffeId {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

const HINT =
  'a SPIFFE ID looks like spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>, e.g. spiffe://cluster.local/ns/emojivoto/sa/web';

function invalid(message: string, where: string): IdentityError {
  return new IdentityError(MeshErrorCode.InvalidArgument, message, {
    reason: IdentityErrorReason.InvalidName,
    where,
    hint: HINT,
  });
}

/** Parses and validates a workload SPIFFE ID; throws an `invalid_name` IdentityError saying what is wrong. */
export function parseSpiffeId(uri: string, options: NameParseOptions = {}): SpiffeId {
  const where = options.where ?? 'SPIFFE ID';
  if (typeof uri !== 'string') throw invalid(`expected a string, got ${typeof uri}`, where);
  const quoted = JSON.stringify(uri);
  if (!uri.startsWith(SPIFFE_SCHEME)) throw invalid(`${quoted} does not start with ${SPIFFE_SCHEME}`, where);
  const rest = uri.slice(SPIFFE_SCHEME.length);
  const special = /[?#@:%]/.exec(rest);
  if (special) {
    throw invalid(
      `${quoted} contains ${JSON.stringify(special[0])} at position ${SPIFFE_SCHEME.length + special.index + 1}; SPIFFE IDs have no port, user info, query, fragment or percent-encoding`,
      where,
    );
  }
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  const tdProblem = dnsNameProblem(trustDomain);
  if (tdProblem) throw invalid(`${quoted}: trust domain ${JSON.stringify(trustDomain)}: ${tdProblem}`, where);
  const segments = slash === -1 ? [] : rest.slice(slash + 1).split('/');
  if (segments.length !== 4 || segments[0] !== 'ns' || segments[2] !== 'sa') {
    throw invalid(`${quoted}: path must be /ns/<namespace>/sa/<serviceaccount>`, where);
  }
  const namespace = segments[1] as string;
  const serviceAccount = segments[3] as string;
  const nsProblem = dnsLabelProblem(namespace);
  if (nsProblem) throw invalid(`${quoted}: namespace ${JSON.stringify(namespace)} ${nsProblem}`, where);
  const saProblem = dnsLabelProblem(serviceAccount);
  if (saProblem)
    throw invalid(`${quoted}: service account ${JSON.stringify(serviceAccount)} ${saProblem}`, where);
  return Object.freeze({ trustDomain, namespace, serviceAccount });
}

/** True when `uri` is a valid workload SPIFFE ID. */
export function isSpiffeId(uri: string): boolean {
  try {
    parseSpiffeId(uri);
    return true;
  } catch {
    return false;
  }
}

/** Formats (and validates) a SPIFFE ID. Accepts an `IdentityName` too (its control-plane namespace is dropped). */
export function formatSpiffeId(id: SpiffeId, options: NameParseOptions = {}): string {
  const where = options.where ?? 'SPIFFE ID';
  assertDnsName(id.trustDomain, 'trust domain', where);
  assertDnsLabel(id.namespace, 'namespace', where);
  assertDnsLabel(id.serviceAccount, 'service account', where);
  return `${SPIFFE_SCHEME}${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** `default.emojivoto.serviceaccount.identity.linkerd.cluster.local` → `spiffe://cluster.local/ns/emojivoto/sa/default`. */
export function identityNameToSpiffeId(name: string | IdentityName): string {
  return formatSpiffeId(typeof name === 'string' ? parseIdentityName(name) : name);
}

export interface SpiffeToIdentityOptions extends NameParseOptions {
  /** The control-plane namespace to put in the DNS form (a SPIFFE ID does not carry it). Default `linkerd`. */
  controlPlaneNamespace?: string;
}

/** `spiffe://cluster.local/ns/emojivoto/sa/default` → `default.emojivoto.serviceaccount.identity.linkerd.cluster.local`. */
export function spiffeIdToIdentityName(id: string | SpiffeId, options: SpiffeToIdentityOptions = {}): string {
  const parts = typeof id === 'string' ? parseSpiffeId(id, options) : id;
  return formatIdentityName(
    {
      serviceAccount: parts.serviceAccount,
      namespace: parts.namespace,
      trustDomain: parts.trustDomain,
      controlPlaneNamespace: options.controlPlaneNamespace ?? DEFAULT_CONTROL_PLANE_NAMESPACE,
    },
    options,
  );
}
