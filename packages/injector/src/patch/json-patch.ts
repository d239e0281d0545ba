// JSON Patch (RFC 6902) between two JSON documents, for the admission response. Objects are
// compared key by key; an array whose old items all survive in order gets `add` operations at the
// new positions (what Linkerd's injector sends: containers inserted, volumes appended), any other
// array change replaces the array.
import { jsonPointer, type JsonPatchOperation } from '@tsmesh/kube';

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The operations that turn `from` into `to`. */
export function diffJson(from: Json, to: Json, path: (string | number)[] = []): JsonPatchOperation[] {
  if (deepEqual(from, to)) return [];
  const here = jsonPointer(...path);
  if (isObject(from) && isObject(to)) {
    const ops: JsonPatchOperation[] = [];
    for (const key of Object.keys(from)) {
      if (!Object.hasOwn(to, key)) ops.push({ op: 'remove', path: jsonPointer(...path, key) });
    }
    for (const [key, value] of Object.entries(to)) {
      if (!Object.hasOwn(from, key)) ops.push({ op: 'add', path: jsonPointer(...path, key), value });
      else ops.push(...diffJson(from[key], value, [...path, key]));
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to) && to.length > from.length) {
    // Is `from` a subsequence of `to`? Then insert the new items, front to back.
    const inserts: number[] = [];
    let i = 0;
    for (let j = 0; j < to.length; j++) {
      if (i < from.length && deepEqual(from[i], to[j])) i++;
      else inserts.push(j);
    }
    if (i === from.length) {
      // Ascending final positions: each add lands where the item ends up.
      return inserts.map((j) => ({ op: 'add' as const, path: jsonPointer(...path, j), value: to[j] }));
    }
  }
  return [{ op: 'replace', path: here, value: to }];
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Applies add/remove/replace operations to a copy of `document` (enough to check our own patches). */
export function applyJsonPatch<T>(document: T, ops: readonly JsonPatchOperation[]): T {
  let root: Json = structuredClone(document);
  for (const op of ops) {
    if (op.op !== 'add' && op.op !== 'remove' && op.op !== 'replace') {
      throw new Error(`unsupported JSON patch operation ${op.op}`);
    }
    const segments = op.path === '' ? [] : op.path.slice(1).split('/').map(unescape);
    if (segments.length === 0) {
      if (op.op === 'remove') throw new Error('cannot remove the document root');
      root = structuredClone(op.value);
      continue;
    }
    let parent: Json = root;
    for (const s of segments.slice(0, -1)) {
      // Own keys only: a key named `__proto__` is a member like any other, not the prototype.
      parent = Array.isArray(parent)
        ? parent[Number(s)]
        : isObject(parent) && Object.hasOwn(parent, s)
          ? parent[s]
          : undefined;
      if (parent === undefined) throw new Error(`path ${op.path} does not exist`);
    }
    const last = segments[segments.length - 1] as string;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length)
        throw new Error(`bad index in ${op.path}`);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (op.op === 'remove') parent.splice(index, 1);
      else parent[index] = structuredClone(op.value);
    } else if (isObject(parent)) {
      if (op.op === 'remove') delete parent[last];
      // Defined, not assigned: assigning `__proto__` would set the object's prototype.
      else
        Object.defineProperty(parent, last, {
          value: structuredClone(op.value),
          writable: true,
          enumerable: true,
          configurable: true,
        });
    } else {
      throw new Error(`path ${op.path} does not exist`);
    }
  }
  return root as T;
}
