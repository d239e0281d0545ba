// The HPACK static table (RFC 7541 Appendix A): 61 fixed entries, indices 1..61, shared by every
// connection. The decoder reads it by index; the encoder looks it up by name and by name+value.

/** Number of static entries; dynamic table indices start after it. */
export const STATIC_TABLE_LENGTH = 61;

const ENTRIES: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['via', ''],
  ['vary', ''],
  ['www-authenticate', ''],
];

/** Names by HPACK index; slot 0 is unused so that STATIC_NAMES[i] is entry i. */
export const STATIC_NAMES: readonly string[] = ['', ...ENTRIES.map((e) => e[0])];
/** Values by HPACK index; slot 0 is unused. */
export const STATIC_VALUES: readonly string[] = ['', ...ENTRIES.map((e) => e[1])];

/** Name → the lowest static index with that name (what a literal's name reference uses). */
export const STATIC_NAME_INDEX: ReadonlyMap<string, number> = new Map();
/** Name → (value → static index), for exact matches. */
export const STATIC_PAIR_INDEX: ReadonlyMap<string, ReadonlyMap<string, number>> = new Map();

for (let i = 1; i <= STATIC_TABLE_LENGTH; i++) {
  const name = STATIC_NAMES[i] as string;
  const value = STATIC_VALUES[i] as string;
  const names = STATIC_NAME_INDEX as Map<string, number>;
  if (!names.has(name)) names.set(name, i);
  const pairs = STATIC_PAIR_INDEX as Map<string, Map<string, number>>;
  let values = pairs.get(name);
  if (values === undefined) pairs.set(name, (values = new Map()));
  if (!values.has(value)) values.set(value, i);
}
