// Where an HTTP request goes: decided per request by the caller (original destination, a
// configured forward address, or the Host/:authority header in explicit mode).
export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
}

/** `host[:port]` from a Host or :authority value; undefined when it is not a usable address. */
export function parseAuthority(authority: string | undefined, defaultPort = 80): UpstreamTarget | undefined {
  if (!authority) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(authority);
  if (!m) return undefined;
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2]) as string, port };
}
