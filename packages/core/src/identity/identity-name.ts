// Linkerd identity names: `<sa>.<ns>.serviceaccount.identity.<control-plane-ns>.<trust-domain>`,
// the DNS name a proxy's leaf certificate carries as its dNSName SAN and that peers check.
// Service account and namespaces are single RFC 1123 labels (a dotted service-account name, which
// Kubernetes allows, cannot be told apart from the namespace here, so it is refused); the trust
// domain is one or more labels; the whole name is a DNS name of at most 253 characters.
import { MeshErrorCode } from '../errors/index.js';
import {
  assertDnsLabel,
  assertDnsName,
  dnsLabelProblem,
  dnsNameProblem,
  MAX_DNS_NAME_LENGTH,
} from './dns-name.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_CONTROL_PLANE_NAMESPACE = 'linkerd';

/** The parts of a Linkerd identity name. */
export interface IdentityName {
  readonly serviceAccount: string;
  readonly namespace: string;
  readonly controlPlaneNamespace: string;
  readonly trustDomain: string;
}

/** Parts for `formatIdentityName`; the control-plane namespace and trust domain have Linkerd's defaults. */
export interface IdentityNameParts {
  serviceAccount: string;
  namespace: string;
  /** Default `linkerd`. */
  controlPlaneNamespace?: string;
  /** Default `cluster.local`. */
  trustDomain?: string;
}

export interface NameParseOptions {
  /** Where the text came from, for error messages (e.g. `CertifyRequest.identity`). */
  where?: string;
}

const FIXED_LABELS = ['serviceaccount', 'identity'] as const;

function invalid(message: string, where: string, hint: string): IdentityError {
  return new IdentityError(MeshErrorCode.InvalidArgument, message, {
    reason: IdentityErrorReason.InvalidName,
    where,
    hint,
  });
}

const NAME_HINT =
  'an identity name looks like <serviceaccount>.<namespace>.serviceaccount.identity.<control-plane-namespace>.<trust-domain>, e.g. default.emojivoto.serviceaccount.identity.linkerd.cluster.local';

/** Parses and validates a Linkerd identity name; throws an `invalid_name` IdentityError saying which part is wrong. */
export function parseIdentityName(text: string, options: NameParseOptions = {}): IdentityName {
  const where = options.where ?? 'identity name';
  if (typeof text !== 'string') throw invalid(`expected a string, got ${typeof text}`, where, NAME_HINT);
  const quoted = JSON.stringify(text);
  if (text.length > MAX_DNS_NAME_LENGTH) {
    throw invalid(
      `${quoted} is ${text.length} characters long; a DNS name has at most ${MAX_DNS_NAME_LENGTH}`,
      where,
      'shorten the service account, namespace or trust domain',
    );
  }
  const labels = text.split('.');
  if (labels.length < 6) {
    throw invalid(
      `${quoted} has ${labels.length} dot-separated labels; an identity name has at least 6`,
      where,
      NAME_HINT,
    );
  }
  const [serviceAccount, namespace, fixed1, fixed2, controlPlaneNamespace] = labels as [
    string,
    string,
    string,
    string,
    string,
  ];
  const trustDomain = labels.slice(5).join('.');
  const roles: Array<[string, string]> = [
    [serviceAccount, 'service account'],
    [namespace, 'namespace'],
  ];
  for (const [index, [label, role]] of roles.entries()) {
    const problem = dnsLabelProblem(label);
    if (problem)
      throw invalid(
        `${quoted}: label ${index + 1} (${role}) ${JSON.stringify(label)} ${problem}`,
        where,
        NAME_HINT,
      );
  }
  for (const [offset, expected] of FIXED_LABELS.entries()) {
    const got = offset === 0 ? fixed1 : fixed2;
    if (got !== expected) {
      throw invalid(
        `${quoted}: label ${offset + 3} is ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`,
        where,
        NAME_HINT,
      );
    }
  }
  const cpProblem = dnsLabelProblem(controlPlaneNamespace);
  if (cpProblem) {
    throw invalid(
      `${quoted}: label 5 (control-plane namespace) ${JSON.stringify(controlPlaneNamespace)} ${cpProblem}`,
      where,
      NAME_HINT,
    );
  }
  const tdProblem = dnsNameProblem(trustDomain);
  if (tdProblem)
    throw invalid(`${quoted}: trust domain ${JSON.stringify(trustDomain)}: ${tdProblem}`, where, NAME_HINT);
  return Object.freeze({ serviceAccount, namespace, controlPlaneNamespace, trustDomain });
}

/** True when `text` is a valid Linkerd identity name. */
export function isIdentityName(text: string): boolean {
  try {
    parseIdentityName(text);
    return true;
  } catch {
    return false;
  }
}

/** Formats (and validates) an identity name from its parts. */
export function formatIdentityName(parts: IdentityNameParts, options: NameParseOptions = {}): string {
  const where = options.where ?? 'identity name';
  const controlPlaneNamespace = parts.controlPlaneNamespace ?? DEFAULT_CONTROL_PLANE_NAMESPACE;
  const trustDomain = parts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  assertDnsLabel(parts.serviceAccount, 'service account', where);
  assertDnsLabel(parts.namespace, 'namespace', where);
  assertDnsLabel(controlPlaneNamespace, 'control-plane namespace', where);
  assertDnsName(trustDomain, 'trust domain', where);
  const text = `${parts.serviceAccount}.${parts.namespace}.serviceaccount.identity.${controlPlaneNamespace}.${trustDomain}`;
  if (text.length > MAX_DNS_NAME_LENGTH) {
    throw invalid(
      `identity name would be ${text.length} characters long; a DNS name has at most ${MAX_DNS_NAME_LENGTH}`,
      where,
      'shorten the service account, namespace or trust domain',
    );
  }
  return text;
}

/** A Kubernetes service account, as named by a TokenReview username. */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly serviceAccount: string;
}

const SA_PREFIX = 'system:serviceaccount:';

/**
 * Parses a TokenReview username `system:serviceaccount:<ns>:<sa>` (what Linkerd's identity service
 * builds the identity name from). Both parts must be DNS labels.
 */
export function parseServiceAccountUsername(
  username: string,
  options: NameParseOptions = {},
): ServiceAccountRef {
  const where = options.where ?? 'service account username';
  const hint = 'expected system:serviceaccount:<namespace>:<name>';
  if (typeof username !== 'string' || !username.startsWith(SA_PREFIX)) {
    throw invalid(`${JSON.stringify(username)} is not a service account username`, where, hint);
  }
  const rest = username.slice(SA_PREFIX.length).split(':');
  if (rest.length !== 2)
    throw invalid(`${JSON.stringify(username)} does not have exactly 4 ':'-separated parts`, where, hint);
  const [namespace, serviceAccount] = rest as [string, string];
  assertDnsLabel(namespace, 'namespace', where);
  assertDnsLabel(serviceAccount, 'service account', where);
  return Object.freeze({ namespace, serviceAccount });
}
