// ServiceProfile specs (linkerd.io/v1alpha2): parsed into a checked model, or a list of problems
// each naming its field (`spec.routes[0].condition.pathRegex`). The admission webhook refuses a
// profile with problems; the profile watcher logs them and skips the profile. The rules are
// Linkerd's (pkg/profiles validation and the profile translator): a match needs at least one
// field, several fields in one match mean all of them, status ranges lie within 100-599 and
// min <= max, durations are Go durations, weights are Kubernetes quantities (1 = 10000).
import { parseDurationMs } from '@tsmesh/core';

export type RequestMatch =
  | { readonly all: readonly RequestMatch[] }
  | { readonly any: readonly RequestMatch[] }
  | { readonly not: RequestMatch }
  | { readonly pathRegex: string }
  | { readonly method: string };

export type ResponseMatch =
  | { readonly all: readonly ResponseMatch[] }
  | { readonly any: readonly ResponseMatch[] }
  | { readonly not: ResponseMatch }
  | { readonly status: { readonly min: number; readonly max: number } };

export interface ProfileRoute {
  readonly name: string;
  readonly condition: RequestMatch;
  readonly responseClasses: readonly { readonly condition: ResponseMatch; readonly isFailure: boolean }[];
  readonly isRetryable: boolean;
  readonly timeoutMs: number | undefined;
}

export interface ServiceProfileSpec {
  readonly routes: readonly ProfileRoute[];
  readonly retryBudget:
    { readonly retryRatio: number; readonly minRetriesPerSecond: number; readonly ttlMs: number } | undefined;
  /** Weights in ten-thousandths (Linkerd's decimillis: 10000 = 100 %). */
  readonly dstOverrides: readonly { readonly authority: string; readonly weight: number }[];
}

export type ServiceProfileParse =
  | { readonly ok: true; readonly spec: ServiceProfileSpec }
  | { readonly ok: false; readonly problems: readonly string[] };

const GO_UNITS = ['ms', 's', 'm', 'h'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Problems {
  readonly list: string[] = [];
  add(at: string, message: string): void {
    this.list.push(`${at}: ${message}`);
  }
  unknown(value: Obj, at: string, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.add(`${at}.${key}`, 'unknown field');
    }
  }
}

/** Milliseconds of a Go duration, or undefined. */
export function parseGoDurationMs(text: string): number | undefined {
  return parseDurationMs(text, { units: GO_UNITS });
}

/** A Kubernetes quantity in thousandths (`1` → 1000, `500m` → 500, `0.25` → 250), or undefined. */
export function quantityMillis(value: unknown): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G)?$/.exec(value.trim());
  if (!m) return undefined;
  const scale = { m: 1, '': 1000, k: 1e6, M: 1e9, G: 1e12 }[m[2] ?? ''] as number;
  return Math.round(Number(m[1]) * scale);
}

function parseRequestMatch(value: unknown, at: string, p: Problems): RequestMatch | undefined {
  if (!isObj(value)) {
    p.add(at, 'a request match must be an object');
    return undefined;
  }
  p.unknown(value, at, ['all', 'any', 'not', 'pathRegex', 'method']);
  const parts: RequestMatch[] = [];
  for (const key of ['all', 'any'] as const) {
    const list = value[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      p.add(`${at}.${key}`, 'must be a list of request matches');
      continue;
    }
    const matches = list.map((m, i) => parseRequestMatch(m, `${at}.${key}[${i}]`, p));
    const ok = matches.filter((m): m is RequestMatch => m !== undefined);
    parts.push(key === 'all' ? { all: ok } : { any: ok });
  }
  if (value.method !== undefined && value.method !== '') {
    if (typeof value.method !== 'string' || !/^[A-Za-z]+$/.test(value.method)) {
      p.add(`${at}.method`, 'must be an HTTP method such as GET');
    } else parts.push({ method: value.method.toUpperCase() });
  }
  if (value.not !== undefined && value.not !== null) {
    const not = parseRequestMatch(value.not, `${at}.not`, p);
    if (not) parts.push({ not });
  }
  if (value.pathRegex !== undefined && value.pathRegex !== '') {
    if (typeof value.pathRegex !== 'string') p.add(`${at}.pathRegex`, 'must be a string');
    else {
      try {
        new RegExp(value.pathRegex, 'u');
        parts.push({ pathRegex: value.pathRegex });
      } catch (err) {
        p.add(`${at}.pathRegex`, `not a valid regular expression: ${(err as Error).message}`);
      }
    }
  }
  if (parts.length === 0) {
    p.add(at, 'a request match must have a field set (all, any, not, pathRegex or method)');
    return undefined;
  }
  return parts.length === 1 ? parts[0] : { all: parts };
}

function statusBound(value: unknown, at: string, p: Problems): number {
  if (value === undefined || value === null || value === 0) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > 599) {
    p.add(at, 'must be an HTTP status between 100 and 599, inclusive');
    return 0;
  }
  return value;
}

function parseResponseMatch(value: unknown, at: string, p: Problems): ResponseMatch | undefined {
  if (!isObj(value)) {
    p.add(at, 'a response match must be an object');
    return undefined;
  }
  p.unknown(value, at, ['all', 'any', 'not', 'status']);
  const parts: ResponseMatch[] = [];
  for (const key of ['all', 'any'] as const) {
    const list = value[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      p.add(`${at}.${key}`, 'must be a list of response matches');
      continue;
    }
    const matches = list.map((m, i) => parseResponseMatch(m, `${at}.${key}[${i}]`, p));
    const ok = matches.filter((m): m is ResponseMatch => m !== undefined);
    parts.push(key === 'all' ? { all: ok } : { any: ok });
  }
  if (value.status !== undefined && value.status !== null) {
    if (!isObj(value.status)) p.add(`${at}.status`, 'must be an object with min and/or max');
    else {
      p.unknown(value.status, `${at}.status`, ['min', 'max']);
      const min = statusBound(value.status.min, `${at}.status.min`, p);
      const max = statusBound(value.status.max, `${at}.status.max`, p);
      if (min !== 0 && max !== 0 && max < min) {
        p.add(`${at}.status`, `range maximum ${max} cannot be smaller than minimum ${min}`);
      }
      parts.push({ status: { min, max } });
    }
  }
  if (value.not !== undefined && value.not !== null) {
    const not = parseResponseMatch(value.not, `${at}.not`, p);
    if (not) parts.push({ not });
  }
  if (parts.length === 0) {
    p.add(at, 'a response match must have a field set (all, any, not or status)');
    return undefined;
  }
  return parts.length === 1 ? parts[0] : { all: parts };
}

function parseRoute(value: unknown, at: string, p: Problems): ProfileRoute | undefined {
  if (!isObj(value)) {
    p.add(at, 'a route must be an object');
    return undefined;
  }
  p.unknown(value, at, ['name', 'condition', 'responseClasses', 'isRetryable', 'timeout']);
  if (typeof value.name !== 'string' || value.name === '') p.add(`${at}.name`, 'a route needs a name');
  if (value.condition === undefined || value.condition === null) {
    p.add(`${at}.condition`, 'a route needs a condition');
  }
  const condition =
    value.condition === undefined || value.condition === null
      ? undefined
      : parseRequestMatch(value.condition, `${at}.condition`, p);
  const responseClasses: { condition: ResponseMatch; isFailure: boolean }[] = [];
  if (value.responseClasses !== undefined && value.responseClasses !== null) {
    if (!Array.isArray(value.responseClasses)) p.add(`${at}.responseClasses`, 'must be a list');
    else
      value.responseClasses.forEach((rc: unknown, i) => {
        const rat = `${at}.responseClasses[${i}]`;
        if (!isObj(rc)) return p.add(rat, 'a response class must be an object');
        p.unknown(rc, rat, ['condition', 'isFailure']);
        if (rc.condition === undefined || rc.condition === null) {
          return p.add(`${rat}.condition`, 'a response class needs a condition');
        }
        if (rc.isFailure !== undefined && typeof rc.isFailure !== 'boolean') {
          p.add(`${rat}.isFailure`, 'must be true or false');
        }
        const c = parseResponseMatch(rc.condition, `${rat}.condition`, p);
        if (c) responseClasses.push({ condition: c, isFailure: rc.isFailure === true });
      });
  }
  if (value.isRetryable !== undefined && typeof value.isRetryable !== 'boolean') {
    p.add(`${at}.isRetryable`, 'must be true or false');
  }
  let timeoutMs: number | undefined;
  if (value.timeout !== undefined && value.timeout !== '') {
    timeoutMs = typeof value.timeout === 'string' ? parseGoDurationMs(value.timeout) : undefined;
    if (timeoutMs === undefined)
      p.add(`${at}.timeout`, `"${String(value.timeout)}" is not a duration such as 300ms or 10s`);
  }
  if (!condition || typeof value.name !== 'string') return undefined;
  return {
    name: value.name,
    condition,
    responseClasses,
    isRetryable: value.isRetryable === true,
    timeoutMs: timeoutMs || undefined,
  };
}

/** Parses and checks a ServiceProfile's `spec`. */
export function parseServiceProfileSpec(spec: unknown, at = 'spec'): ServiceProfileParse {
  const p = new Problems();
  if (!isObj(spec)) {
    return { ok: false, problems: [`${at}: a ServiceProfile needs a spec object`] };
  }
  p.unknown(spec, at, ['routes', 'retryBudget', 'dstOverrides']);
  const routes: ProfileRoute[] = [];
  if (spec.routes !== undefined && spec.routes !== null) {
    if (!Array.isArray(spec.routes)) p.add(`${at}.routes`, 'must be a list of routes');
    else
      spec.routes.forEach((r: unknown, i) => {
        const route = parseRoute(r, `${at}.routes[${i}]`, p);
        if (route) routes.push(route);
      });
  }
  let retryBudget: ServiceProfileSpec['retryBudget'];
  if (spec.retryBudget !== undefined && spec.retryBudget !== null) {
    const rb = spec.retryBudget;
    const bat = `${at}.retryBudget`;
    if (!isObj(rb)) p.add(bat, 'must be an object with retryRatio, minRetriesPerSecond and ttl');
    else {
      p.unknown(rb, bat, ['retryRatio', 'minRetriesPerSecond', 'ttl']);
      const ratio = rb.retryRatio;
      const min = rb.minRetriesPerSecond;
      const ttlMs = typeof rb.ttl === 'string' ? parseGoDurationMs(rb.ttl) : undefined;
      if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0) {
        p.add(`${bat}.retryRatio`, 'must be a number >= 0');
      }
      if (typeof min !== 'number' || !Number.isInteger(min) || min < 0 || min > 0xffffffff) {
        p.add(`${bat}.minRetriesPerSecond`, 'must be an integer >= 0');
      }
      if (ttlMs === undefined) p.add(`${bat}.ttl`, `"${String(rb.ttl)}" is not a duration such as 10s`);
      if (p.list.length === 0) {
        retryBudget = {
          retryRatio: ratio as number,
          minRetriesPerSecond: min as number,
          ttlMs: ttlMs as number,
        };
      }
    }
  }
  const dstOverrides: { authority: string; weight: number }[] = [];
  if (spec.dstOverrides !== undefined && spec.dstOverrides !== null) {
    if (!Array.isArray(spec.dstOverrides)) p.add(`${at}.dstOverrides`, 'must be a list');
    else
      spec.dstOverrides.forEach((d: unknown, i) => {
        const dat = `${at}.dstOverrides[${i}]`;
        if (!isObj(d)) return p.add(dat, 'must be an object with authority and weight');
        p.unknown(d, dat, ['authority', 'weight']);
        if (typeof d.authority !== 'string' || d.authority === '') {
          return p.add(
            `${dat}.authority`,
            'must be a non-empty authority such as svc.ns.svc.cluster.local:80',
          );
        }
        const millis = quantityMillis(d.weight);
        if (millis === undefined) {
          return p.add(`${dat}.weight`, `"${String(d.weight)}" is not a quantity such as 1, 500m or 100`);
        }
        dstOverrides.push({ authority: d.authority, weight: millis * 10 });
      });
  }
  if (p.list.length > 0) return { ok: false, problems: p.list };
  return { ok: true, spec: { routes, retryBudget, dstOverrides } };
}
