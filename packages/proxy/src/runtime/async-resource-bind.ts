// Node's AsyncResource.prototype.bind (Node 20 to 24) gives every bound function a deprecated
// `asyncResource` accessor (DEP0172) whose getter and setter util.deprecate() wraps; deprecate()
// sets each wrapper's prototype to the fresh closure it wraps. V8 then gives every wrapper a map of
// its own, allocated in the old generation, whose prototype is that young closure, and the
// closure's context holds what was bound. node:http2's ClientHttp2Session.request() binds once per
// stream (`reqAsync.bind(requestOnConnect.bind(stream, …))`), so every stream's objects stay
// reachable from the old generation until the next mark-compact: they survive their scavenges and
// are promoted. Measured (bench/proxy/h2-promotion.mjs, bench/README.md "Memory"): 4.5 KiB per
// client stream, 12-16 KiB per request through an outbound proxy that speaks HTTP/2 to its peer, a
// mark-compact about every second at 1,000 requests a second.
//
// installAsyncResourceBind() replaces bind with one that behaves the same — the same wrapper, its
// `length`, and the `asyncResource` accessor with its one DEP0172 warning — through one shared
// getter and setter, so nothing per call reaches the old generation. The proxy's binary installs it
// at start; a library that embeds the proxy decides for its own process.
import { AsyncResource } from 'node:async_hooks';

const RESOURCE = Symbol('tsmesh.asyncResource');
const DEPRECATION = 'The asyncResource property on bound functions is deprecated';
let warned = false;

function warnOnce(): void {
  if (warned || process.noDeprecation) return;
  warned = true;
  process.emitWarning(DEPRECATION, 'DeprecationWarning', 'DEP0172');
}

type Bound = ((...args: unknown[]) => unknown) & { [RESOURCE]?: unknown };

function getResource(this: Bound): unknown {
  warnOnce();
  return this[RESOURCE];
}

function setResource(this: Bound, value: unknown): void {
  warnOnce();
  this[RESOURCE] = value;
}

/** `fn` called with the caller's `this`, in `resource`'s async scope (Node's wrapper without thisArg). */
function inScopeOf(resource: AsyncResource, fn: (...args: never[]) => unknown): Bound {
  return function (this: unknown, ...args: unknown[]) {
    return Reflect.apply(resource.runInAsyncScope, resource, [fn, this, ...args]);
  };
}

/** True when this Node's bind makes a per-call `asyncResource` accessor (what the fix replaces). */
export function asyncResourceBindAllocatesAccessors(): boolean {
  const probe = new AsyncResource('tsmesh-probe').bind(() => undefined);
  const descriptor = Object.getOwnPropertyDescriptor(probe, 'asyncResource');
  return descriptor?.get !== undefined && descriptor.get !== getResource;
}

/**
 * Installs the lean AsyncResource.prototype.bind in this process when Node's makes per-call
 * deprecation wrappers; returns whether it did (false on a Node without the accessor, or when it is
 * already installed).
 */
export function installAsyncResourceBind(): boolean {
  if (!asyncResourceBindAllocatesAccessors()) return false;
  const original = AsyncResource.prototype.bind;
  AsyncResource.prototype.bind = function bind<Func extends (...args: never[]) => unknown>(
    this: AsyncResource,
    fn: Func,
    thisArg?: unknown,
  ) {
    // Node's own validation and errors (ERR_INVALID_ARG_TYPE) for anything but a function.
    if (typeof fn !== 'function') return Reflect.apply(original, this, [fn, thisArg]) as Func;
    const bound =
      thisArg === undefined
        ? inScopeOf(this, fn)
        : (Function.prototype.bind.call(this.runInAsyncScope, this, fn, thisArg) as Bound);
    Object.defineProperties(bound, {
      length: { configurable: true, enumerable: false, value: fn.length, writable: false },
      [RESOURCE]: { configurable: true, enumerable: false, value: this, writable: true },
      asyncResource: { configurable: true, enumerable: true, get: getResource, set: setResource },
    });
    return bound as unknown as Func;
  };
  return true;
}
