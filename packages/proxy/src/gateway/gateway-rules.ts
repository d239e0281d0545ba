// The multicluster gateway's rules, as linkerd2-proxy's gateway applies them to a request that a
// peer proxy sent over mesh TLS to this proxy's inbound port:
// - the target must be a name under one of LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES
//   (`svc.<cluster-domain>.`): the gateway only forwards to this cluster's Services
//   ("gateway domain invalid", 404);
// - a client presenting the gateway's own identity, or a request whose `Forwarded` header already
//   has `by=<this gateway>`, is a loop ("gateway loop", 508);
// - an accepted request goes on with `Forwarded: by=<gateway>;for=<client>;host=<target>;proto=https`
//   appended and the target as its authority (HTTP/1's Host is rewritten too).
// The same rules exist as a pure function in @tsmesh/multicluster for the controllers; the proxy
// keeps its own copy of the few it needs (it may import only @tsmesh/core).
import { ProxyError, ProxyErrorCode } from '../errors/index.js';
import { parseAuthority } from '../http/index.js';

/** A gateway target: a name under the suffixes and a port. */
export interface GatewayTarget {
  readonly name: string;
  readonly port: number;
  /** `name:port`, the authority requests go on with. */
  readonly authority: string;
}

const trimDot = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** The target for `name[:port]` when the name is under one of `suffixes`, else a ProxyError. */
export function gatewayTarget(authority: string, suffixes: readonly string[]): GatewayTarget | ProxyError {
  const parsed = parseAuthority(authority.trim());
  const name = parsed ? trimDot(parsed.host) : '';
  if (!parsed || name === '' || /^[0-9.]+$/.test(name) || parsed.host.includes(':')) {
    return new ProxyError(
      ProxyErrorCode.GatewayDomainInvalid,
      `the gateway forwards only to service names, not to '${authority}'`,
    );
  }
  // '' is the root suffix (`.`): any name.
  const inDomain = suffixes.some((s) => s === '' || name === s || name.endsWith(`.${s}`));
  if (!inDomain) {
    return new ProxyError(
      ProxyErrorCode.GatewayDomainInvalid,
      `${name} is not under the gateway's suffixes (${suffixes.join(', ')})`,
    );
  }
  return { name, port: parsed.port, authority: `${name}:${parsed.port}` };
}

/** The `by=` values of Forwarded header values (RFC 7239: elements split on `,`, pairs on `;`). */
export function forwardedBy(values: string | readonly string[] | undefined): string[] {
  if (values === undefined) return [];
  const out: string[] = [];
  for (const v of typeof values === 'string' ? [values] : values) {
    for (const element of v.split(',')) {
      for (const pair of element.split(';')) {
        const eq = pair.indexOf('=');
        if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'by') {
          out.push(
            pair
              .slice(eq + 1)
              .trim()
              .replace(/^"(.*)"$/, '$1'),
          );
        }
      }
    }
  }
  return out;
}

/** Refuses a loop: the client is this gateway, or the request already passed through it. */
export function checkGatewayLoop(
  localId: string,
  clientId: string,
  forwarded: string | readonly string[] | undefined,
): ProxyError | undefined {
  if (clientId === localId || forwardedBy(forwarded).includes(localId)) {
    return new ProxyError(
      ProxyErrorCode.GatewayLoop,
      `the request already passed through gateway ${localId}`,
    );
  }
  return undefined;
}

/** The Forwarded element the gateway appends. */
export const forwardedElement = (localId: string, clientId: string, target: GatewayTarget): string =>
  `by=${localId};for=${clientId};host=${target.authority};proto=https`;
