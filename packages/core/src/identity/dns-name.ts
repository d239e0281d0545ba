// DNS naming rules as Kubernetes applies them (RFC 1123): a label is 1–63 characters of lowercase
// letters, digits and '-', starting and ending with a letter or digit; a name is dot-separated
// labels, at most 253 characters. Identity names and trust domains must obey them because they
// travel as dNSName SANs and are matched by the proxies' TLS verifiers.
import { MeshErrorCode } from '../errors/index.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';

export const MAX_DNS_LABEL_LENGTH = 63;
export const MAX_DNS_NAME_LENGTH = 253;

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `label` is not an RFC 1123 label, or undefined when it is one. */
export function dnsLabelProblem(label: string): string | undefined {
  if (label.length === 0) return 'is empty';
  if (label.length > MAX_DNS_LABEL_LENGTH) {
    return `is ${label.length} characters long; a DNS label has at most ${MAX_DNS_LABEL_LENGTH}`;
  }
  if (LABEL.test(label)) return undefined;
  if (/[A-Z]/.test(label)) return 'contains uppercase letters; DNS labels here are lowercase';
  const bad = /[^-a-z0-9]/.exec(label);
  if (bad)
    return `contains ${JSON.stringify(bad[0])} at position ${bad.index + 1}; only a-z, 0-9 and '-' are allowed`;
  return "starts or ends with '-'";
}

/** True when `label` is an RFC 1123 DNS label (lowercase). */
export function isDnsLabel(label: string): boolean {
  return label.length <= MAX_DNS_LABEL_LENGTH && LABEL.test(label);
}

/** Why `name` is not a dot-separated RFC 1123 DNS name, or undefined when it is one. */
export function dnsNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_DNS_NAME_LENGTH) {
    return `is ${name.length} characters long; a DNS name has at most ${MAX_DNS_NAME_LENGTH}`;
  }
  const labels = name.split('.');
  for (const [index, label] of labels.entries()) {
    const problem = dnsLabelProblem(label);
    if (problem) return `label ${index + 1} (${JSON.stringify(label)}) ${problem}`;
  }
  return undefined;
}

/** True when `name` is a dot-separated RFC 1123 DNS name of at most 253 characters. */
export function isDnsName(name: string): boolean {
  return dnsNameProblem(name) === undefined;
}

/** Throws an `invalid_name` IdentityError naming `what` unless `label` is a DNS label. */
export function assertDnsLabel(label: string, what: string, where?: string): void {
  const problem = dnsLabelProblem(label);
  if (problem) {
    throw new IdentityError(MeshErrorCode.InvalidArgument, `${what} ${JSON.stringify(label)} ${problem}`, {
      reason: IdentityErrorReason.InvalidName,
      where,
      hint: 'use an RFC 1123 label: 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen',
    });
  }
}

/** Throws an `invalid_name` IdentityError naming `what` unless `name` is a DNS name. */
export function assertDnsName(name: string, what: string, where?: string): void {
  const problem = dnsNameProblem(name);
  if (problem) {
    throw new IdentityError(MeshErrorCode.InvalidArgument, `${what} ${JSON.stringify(name)}: ${problem}`, {
      reason: IdentityErrorReason.InvalidName,
      where,
      hint: 'use a DNS name such as cluster.local: dot-separated lowercase RFC 1123 labels, at most 253 characters',
    });
  }
}
