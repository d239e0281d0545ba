// Small typed readers for Kubernetes-style plain objects. Each names the field it rejects.
import type { ResourceMeta } from './model.js';
import { invalidPolicy } from './policy-error.js';

export type PlainObject = Record<string, unknown>;

export function isObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectField(
  parent: PlainObject,
  key: string,
  where: string,
  required = false,
): PlainObject | undefined {
  const value = parent[key];
  if (value === undefined || value === null) {
    if (required) throw invalidPolicy(`${where}.${key}`, 'is required');
    return undefined;
  }
  if (!isObject(value)) throw invalidPolicy(`${where}.${key}`, 'must be an object');
  return value;
}

export function listField(parent: PlainObject, key: string, where: string, required = false): unknown[] {
  const value = parent[key];
  if (value === undefined || value === null) {
    if (required) throw invalidPolicy(`${where}.${key}`, 'is required');
    return [];
  }
  if (!Array.isArray(value)) throw invalidPolicy(`${where}.${key}`, 'must be a list');
  return value;
}

export function stringField(parent: PlainObject, key: string, where: string, required: true): string;
export function stringField(
  parent: PlainObject,
  key: string,
  where: string,
  required?: false,
): string | undefined;
export function stringField(
  parent: PlainObject,
  key: string,
  where: string,
  required = false,
): string | undefined {
  const value = parent[key];
  if (value === undefined || value === null) {
    if (required) throw invalidPolicy(`${where}.${key}`, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') throw invalidPolicy(`${where}.${key}`, 'must be a string');
  if (required && value === '') throw invalidPolicy(`${where}.${key}`, 'must not be empty');
  return value;
}

export function integerField(
  parent: PlainObject,
  key: string,
  where: string,
  range: { min: number; max: number },
): number | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw invalidPolicy(`${where}.${key}`, `must be an integer from ${range.min} to ${range.max}`);
  }
  return value;
}

export function booleanField(parent: PlainObject, key: string, where: string): boolean {
  const value = parent[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw invalidPolicy(`${where}.${key}`, 'must be true or false');
  return value;
}

export function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  where: string,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidPolicy(where, `"${value}" is not supported`, `use one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** A port number (1-65535) or a port name (IANA_SVC_NAME: lowercase, ≤15 characters). */
export function parsePortRef(value: unknown, where: string): number | string {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 1 && value <= 65535) return value;
    throw invalidPolicy(where, `${value} is not a port number`, 'use 1 to 65535 or a container port name');
  }
  if (typeof value === 'string' && value !== '') {
    if (/^\d+$/.test(value)) return parsePortRef(Number(value), where);
    if (/^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(value)) return value;
    throw invalidPolicy(
      where,
      `"${value}" is not a port name`,
      'use a lowercase container port name of up to 15 characters',
    );
  }
  throw invalidPolicy(where, 'is required', 'set a port number or a container port name');
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidPolicy(where, 'must be a map of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalidPolicy(`${where}.${k}`, 'must be a string');
    out[k] = v;
  }
  return out;
}

/** Reads `metadata`; the namespace defaults to `defaultNamespace` (as `kubectl apply -n` would). */
export function parseMeta(
  raw: PlainObject,
  where: string,
  defaultNamespace: string,
  namespaced = true,
): ResourceMeta {
  const metadata = objectField(raw, 'metadata', where, true) as PlainObject;
  const name = stringField(metadata, 'name', `${where}.metadata`, true);
  const namespace = namespaced
    ? (stringField(metadata, 'namespace', `${where}.metadata`) ?? defaultNamespace)
    : '';
  const created = stringField(metadata, 'creationTimestamp', `${where}.metadata`);
  let creationTimestampMs: number | undefined;
  if (created !== undefined) {
    creationTimestampMs = Date.parse(created);
    if (Number.isNaN(creationTimestampMs)) {
      throw invalidPolicy(`${where}.metadata.creationTimestamp`, `"${created}" is not an RFC 3339 time`);
    }
  }
  return {
    name,
    namespace,
    labels: stringMap(metadata.labels, `${where}.metadata.labels`),
    annotations: stringMap(metadata.annotations, `${where}.metadata.annotations`),
    creationTimestampMs,
  };
}
