// A compiled authorization rule: which networks and which authentication a client needs. This is
// the domain form of the proxy API's `Authz`; the first rule that admits a client wins.
import { identityMatches, type IdentityMatch } from './identity-match.js';
import { networkMatchContains, parseIpAddress, type IpAddress, type NetworkMatch } from './ip-network.js';
import { invalidPolicy } from './policy-error.js';

/** What allowed a connection or request: the rule's kind and name, as the proxy labels it. */
export interface AuthorizationRef {
  readonly kind: 'AuthorizationPolicy' | 'ServerAuthorization' | 'default';
  /** A resource name, or for `default`: a default-policy name, `probe` or `audit`. */
  readonly name: string;
}

export type CompiledAuthentication =
  | { readonly kind: 'unauthenticated' }
  | { readonly kind: 'tls-unauthenticated' }
  | {
      readonly kind: 'mesh-tls';
      readonly exact: ReadonlySet<string>;
      readonly suffixes: readonly IdentityMatch[];
    };

export interface ClientAuthorization {
  readonly ref: AuthorizationRef;
  readonly networks: readonly NetworkMatch[];
  readonly authentication: CompiledAuthentication;
}

export interface ClientInfo {
  /** The client's IP address as seen by the server. */
  readonly ip: string;
  /** The client's mTLS identity (absent: not meshed, or TLS without a client certificate). */
  readonly identity?: string;
  /** The connection is TLS even without a client identity. Implied by `identity`. */
  readonly tls?: boolean;
}

export interface PreparedClient {
  readonly ip: IpAddress;
  readonly identity: string | undefined;
  readonly tls: boolean;
}

export function prepareClient(client: ClientInfo): PreparedClient {
  const ip = parseIpAddress(client.ip);
  if (!ip) throw invalidPolicy('client.ip', `"${client.ip}" is not an IP address`);
  const identity = client.identity === undefined || client.identity === '' ? undefined : client.identity;
  return { ip, identity, tls: identity !== undefined || client.tls === true };
}

export function compileIdentities(matches: readonly IdentityMatch[]): CompiledAuthentication {
  const exact = new Set<string>();
  const suffixes: IdentityMatch[] = [];
  for (const m of matches) {
    if (m.kind === 'exact') exact.add(m.name);
    else suffixes.push(m);
  }
  return { kind: 'mesh-tls', exact, suffixes };
}

export function authorizes(authz: ClientAuthorization, client: PreparedClient): boolean {
  const authn = authz.authentication;
  if (authn.kind === 'tls-unauthenticated' && !client.tls) return false;
  if (authn.kind === 'mesh-tls') {
    const id = client.identity;
    if (id === undefined) return false;
    if (!authn.exact.has(id) && !authn.suffixes.some((s) => identityMatches(s, id))) return false;
  }
  const nets = authz.networks;
  for (let i = 0; i < nets.length; i++)
    if (networkMatchContains(nets[i] as NetworkMatch, client.ip)) return true;
  return false;
}
