// The inbound rules of a multicluster gateway, as linkerd2-proxy's gateway applies them, as a pure
// function for a proxy to call on each request it accepts on the gateway port (tsmesh's proxy does
// not run in gateway mode yet; this is the contract it should implement):
// - the client must present a mesh-TLS identity (from a linked cluster sharing the trust anchor),
//   and, when the gateway restricts them, an allowed one;
// - the request must name a target (authority / l5d-dst-canonical) under one of the gateway's
//   suffixes (LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES, `svc.<cluster-domain>.`), else "gateway domain
//   invalid" — the gateway only forwards to this cluster's Services;
// - a request that already passed through this gateway (its identity in a Forwarded `by=`) is a
//   "gateway loop";
// - an accepted request is forwarded to the target through the outbound path (mTLS to the
//   Service's pods) with `Forwarded: by=<gateway>;for=<client>;host=<target>;proto=https` appended.

export type GatewayRejection =
  | 'no authority'
  | 'gateway identity required'
  | 'gateway domain invalid'
  | 'gateway loop'
  | 'identity not allowed';

export type GatewayDecision =
  | { readonly accept: true; readonly host: string; readonly port: number; readonly forwarded: string }
  | { readonly accept: false; readonly error: GatewayRejection; readonly httpStatus: number };

export interface GatewayRequest {
  /** The request's target: `l5d-dst-canonical` or the authority/Host, `name[:port]`. */
  readonly target: string | undefined;
  /** The client's mesh-TLS identity; undefined for a plaintext or unauthenticated connection. */
  readonly clientIdentity: string | undefined;
  /** Forwarded headers already on the request. */
  readonly forwarded?: readonly string[];
}

export interface GatewayConfig {
  /** This gateway's own identity (`linkerd-gateway.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>`). */
  readonly identity: string;
  /** Name suffixes the gateway forwards to, e.g. `svc.cluster.local.` (trailing dot optional). */
  readonly suffixes: readonly string[];
  /** Identities allowed through: exact names, `*` (any), or `*.suffix`; default any. */
  readonly allowedIdentities?: readonly string[];
  /** Port when the target names none. Default 80. */
  readonly defaultPort?: number;
}

const STATUS: Record<GatewayRejection, number> = {
  'no authority': 400,
  'gateway identity required': 403,
  'identity not allowed': 403,
  'gateway domain invalid': 403,
  'gateway loop': 508,
};

const reject = (error: GatewayRejection): GatewayDecision => ({
  accept: false,
  error,
  httpStatus: STATUS[error],
});

const trimDot = (name: string) => name.toLowerCase().replace(/\.$/, '');

function allowed(identity: string, patterns: readonly string[] | undefined): boolean {
  if (!patterns || patterns.length === 0) return true;
  return patterns.some((p) =>
    p === '*' ? true : p.startsWith('*.') ? identity.endsWith(p.slice(1)) : identity === p,
  );
}

/** Splits `name[:port]` (an IPv6 literal in brackets is not a name the gateway forwards to). */
function parseTarget(target: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(target.trim());
  if (!m) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: trimDot(m[1]!), port };
}

export function gatewayDecision(request: GatewayRequest, config: GatewayConfig): GatewayDecision {
  if (!request.clientIdentity) return reject('gateway identity required');
  if (!allowed(request.clientIdentity, config.allowedIdentities)) return reject('identity not allowed');
  if (!request.target) return reject('no authority');
  const target = parseTarget(request.target, config.defaultPort ?? 80);
  if (!target) return reject('no authority');
  const inDomain = config.suffixes.some((s) => {
    const suffix = trimDot(s);
    return target.host === suffix || target.host.endsWith(`.${suffix}`);
  });
  if (!inDomain) return reject('gateway domain invalid');
  const by = `by=${config.identity}`;
  if ((request.forwarded ?? []).some((f) => f.split(/[;,]/).some((part) => part.trim() === by))) {
    return reject('gateway loop');
  }
  return {
    accept: true,
    host: target.host,
    port: target.port,
    forwarded: `${by};for=${request.clientIdentity};host=${target.host}:${target.port};proto=https`,
  };
}
