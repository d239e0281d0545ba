import { describe, expect, it } from 'vitest';
import { identityMatches, parseIdentityMatch, serviceAccountIdentity } from './identity-match.js';

describe('identity-match', () => {
  const web = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';

  it('matches exact names', () => {
    expect(identityMatches(parseIdentityMatch(web), web)).toBe(true);
    expect(identityMatches(parseIdentityMatch(web), `x${web}`)).toBe(false);
  });

  it('`*` matches every identity', () => {
    expect(identityMatches(parseIdentityMatch('*'), web)).toBe(true);
  });

  it('`*.suffix` matches names ending with the labels, not the bare suffix', () => {
    const m = parseIdentityMatch('*.emojivoto.serviceaccount.identity.linkerd.cluster.local');
    expect(identityMatches(m, web)).toBe(true);
    expect(identityMatches(m, 'emojivoto.serviceaccount.identity.linkerd.cluster.local')).toBe(false);
    expect(identityMatches(m, 'web.other.serviceaccount.identity.linkerd.cluster.local')).toBe(false);
    expect(identityMatches(m, 'xemojivoto.serviceaccount.identity.linkerd.cluster.local')).toBe(false);
  });

  it('rejects wildcards elsewhere', () => {
    expect(() => parseIdentityMatch('web.*.cluster.local', 'spec.identities[0]')).toThrow(/wildcard/);
    expect(() => parseIdentityMatch('')).toThrow(/empty/);
  });

  it('builds ServiceAccount identity names', () => {
    expect(serviceAccountIdentity('emojivoto', 'web', 'linkerd', 'cluster.local')).toBe(web);
  });
});
