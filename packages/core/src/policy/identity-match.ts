// Client identity matching as MeshTLSAuthentication and ServerAuthorization express it: an exact
// identity, `*` (any authenticated client), or a suffix `*.ns.serviceaccount.identity.linkerd.cluster.local`
// (Linkerd's IdentitySuffix: the client name must end with all the given labels).
import { invalidPolicy } from './policy-error.js';

export type IdentityMatch =
  | { readonly kind: 'exact'; readonly name: string }
  /** `suffix` is '' for `*` (everyone), else `.foo.bar` for `*.foo.bar`. */
  | { readonly kind: 'suffix'; readonly suffix: string };

export function parseIdentityMatch(text: string, where = 'identity'): IdentityMatch {
  const value = text.trim();
  if (value === '')
    throw invalidPolicy(where, 'identity is empty', 'write an identity name, `*` or `*.suffix`');
  if (value === '*') return { kind: 'suffix', suffix: '' };
  if (value.startsWith('*.')) {
    const rest = value.slice(1);
    if (rest.length < 2 || rest.includes('*')) {
      throw invalidPolicy(
        where,
        `"${text}" is not a valid identity suffix`,
        'write `*.` followed by DNS labels',
      );
    }
    return { kind: 'suffix', suffix: rest };
  }
  if (value.includes('*')) {
    throw invalidPolicy(
      where,
      `"${text}" has a wildcard that is not a leading \`*.\``,
      'use `*` or `*.suffix`',
    );
  }
  return { kind: 'exact', name: value };
}

export function identityMatches(match: IdentityMatch, identity: string): boolean {
  if (match.kind === 'exact') return match.name === identity;
  return match.suffix === '' || (identity.length > match.suffix.length && identity.endsWith(match.suffix));
}

export function formatIdentityMatch(match: IdentityMatch): string {
  return match.kind === 'exact' ? match.name : `*${match.suffix}`;
}

/** `<sa>.<ns>.serviceaccount.identity.<control-plane-ns>.<trust-domain>` */
export function serviceAccountIdentity(
  namespace: string,
  serviceAccount: string,
  controlPlaneNamespace: string,
  trustDomain: string,
): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.${controlPlaneNamespace}.${trustDomain}`;
}
