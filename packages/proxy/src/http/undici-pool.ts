// undici's keep-alive Pool, and only it. The package entry ('undici') also loads fetch, WebSocket,
// EventSource, the cache and mock dispatchers and more that the proxy never uses: importing the
// Pool's own module instead keeps ~3 MB of heap and ~6 MB of RSS out of every proxy
// (bench/README.md, "Proxy pair"). undici publishes no "exports" map, so the module path resolves
// as any file of the package; it is the very class the entry re-exports (same module instance), so
// a Pool made by other code through 'undici' is the same type. Loaded on first use: a proxy whose
// HTTP/1 goes through the raw-socket engine (raw-h1) and carries no downgraded HTTP/2 never needs it.
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);

let loaded: typeof UndiciPool | undefined;

/** undici's `Pool` (the class `import { Pool } from 'undici'` gives), loaded on the first call. */
export function undiciPool(): typeof UndiciPool {
  if (loaded !== undefined) return loaded;
  loaded = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
  // `request`, `stream`, `pipeline`, `connect` and `upgrade` are not the Pool's own: the entry adds
  // them to every dispatcher (`Object.assign(Dispatcher.prototype, api)`). Loaded alone, a Pool has
  // no `request` ("poolFor(...).request is not a function" in a proxy whose process never loads the
  // entry), so do what the entry does, once, unless something already did.
  const dispatcherPrototype = (require('undici/lib/dispatcher/dispatcher.js') as { prototype: object })
    .prototype;
  if (typeof (dispatcherPrototype as { request?: unknown }).request !== 'function') {
    Object.assign(dispatcherPrototype, require('undici/lib/api/index.js') as object);
  }
  return loaded;
}
export type Pool = UndiciPool;
/** `Pool.Options` of undici. */
export type PoolOptions = UndiciPool.Options;
