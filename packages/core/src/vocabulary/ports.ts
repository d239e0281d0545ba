// The proxy's default ports (Linkerd's defaults, so injected pods and probes line up).

export const DefaultPort = {
  /** Inbound: every redirected inbound connection, and the mTLS opaque-transport target. */
  Inbound: 4143,
  /** Outbound: every redirected outbound connection. */
  Outbound: 4140,
  /** Admin: /metrics, /ready, /live, /shutdown, /proxy-log-level. */
  Admin: 4191,
  /** Control: the tap server. */
  Control: 4190,
} as const;

/** The user the proxy runs as; proxy-init skips its traffic. */
export const DEFAULT_PROXY_UID = 2102;

/** Inbound ports proxy-init skips by default: the proxy's own admin and tap ports, and Galera's. */
export const DEFAULT_SKIP_INBOUND_PORTS: readonly number[] = Object.freeze([4190, 4191, 4567, 4568]);
export const DEFAULT_SKIP_OUTBOUND_PORTS: readonly number[] = Object.freeze([4567, 4568]);

/** Ports proxied without protocol detection by default (server-speaks-first and friends). */
export const DEFAULT_OPAQUE_PORTS: readonly number[] = Object.freeze([
  25, 587, 3306, 4444, 5432, 6379, 9300, 11211,
]);

/** Control-plane gRPC ports. */
export const ControlPlanePort = {
  Identity: 8080,
  Destination: 8086,
  Policy: 8090,
  ProxyInjector: 8443,
  Tap: 8088,
} as const;
