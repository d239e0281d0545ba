// Validation of a value against a CRD's OpenAPI v3 schema, the way the apiserver does it for a
// create: unknown fields pruned (and reported), defaults applied, then types, required fields,
// enums, patterns, bounds, list keys and oneOf/anyOf/allOf/not checked. Used where there is no
// apiserver (local mode: YAML files) so a bad file gets the same answer the cluster would give.
// CEL rules (x-kubernetes-validations) are not evaluated here.
import type { JsonSchemaProps } from './json-schema.js';

export type SchemaPath = readonly (string | number)[];

export interface SchemaIssue {
  /** Where: `['spec', 'ports', 0, 'port']`. */
  path: SchemaPath;
  /** `invalid` fails validation; `unknown-field` was pruned (the apiserver drops it with a warning). */
  type: 'invalid' | 'unknown-field';
  message: string;
}

export interface ValidateOptions {
  /** Remove unknown fields (reported as `unknown-field`). Default true. */
  prune?: boolean;
  /** Fill in schema defaults. Default true. */
  applyDefaults?: boolean;
}

/** `spec.ports[0].port` */
export function formatSchemaPath(path: SchemaPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out || '<root>';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const patternCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    patternCache.set(pattern, re);
  }
  return re;
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

class Validator {
  readonly issues: SchemaIssue[] = [];
  constructor(
    readonly prune: boolean,
    readonly defaults: boolean,
  ) {}

  invalid(path: SchemaPath, message: string): void {
    this.issues.push({ path, type: 'invalid', message: `${formatSchemaPath(path)}: ${message}` });
  }

  /** Whether `value` satisfies `schema` (for junctor branches: no pruning, no defaults, no issues). */
  static satisfies(value: unknown, schema: JsonSchemaProps): boolean {
    const v = new Validator(false, false);
    v.check(value, schema, []);
    return v.issues.every((i) => i.type !== 'invalid');
  }

  check(value: unknown, schema: JsonSchemaProps, path: SchemaPath): void {
    if (value === null && schema.nullable) return;
    if (schema['x-kubernetes-int-or-string']) {
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
        this.invalid(path, `Invalid value: ${show(value)}: must be an integer or a string`);
        return;
      }
    } else if (schema.type) {
      const actual = typeOf(value);
      const ok = actual === schema.type || (schema.type === 'number' && actual === 'integer');
      if (!ok) {
        this.invalid(path, `Invalid value: ${show(value)}: must be of type ${schema.type}`);
        return;
      }
    }
    if (schema.enum && !schema.enum.some((e) => e === value)) {
      this.invalid(
        path,
        `Unsupported value: ${show(value)}: supported values: ${schema.enum.map((e) => show(e)).join(', ')}`,
      );
    }
    if (typeof value === 'string') this.checkString(value, schema, path);
    if (typeof value === 'number') this.checkNumber(value, schema, path);
    if (Array.isArray(value)) this.checkArray(value, schema, path);
    if (isPlainObject(value)) this.checkObject(value, schema, path);
    this.checkJunctors(value, schema, path);
  }

  checkString(value: string, schema: JsonSchemaProps, path: SchemaPath): void {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      this.invalid(path, `Invalid value: ${show(value)}: must be at least ${schema.minLength} chars long`);
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      this.invalid(path, `Too long: may not be more than ${schema.maxLength} bytes`);
    }
    if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) {
      this.invalid(path, `Invalid value: ${show(value)}: should match '${schema.pattern}'`);
    }
  }

  checkNumber(value: number, schema: JsonSchemaProps, path: SchemaPath): void {
    if (schema.minimum !== undefined && value < schema.minimum) {
      this.invalid(path, `Invalid value: ${value}: should be greater than or equal to ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      this.invalid(path, `Invalid value: ${value}: should be less than or equal to ${schema.maximum}`);
    }
  }

  checkArray(value: unknown[], schema: JsonSchemaProps, path: SchemaPath): void {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      this.invalid(path, `Invalid value: ${value.length}: should have at least ${schema.minItems} items`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      this.invalid(path, `Too many: ${value.length}: must have at most ${schema.maxItems} items`);
    }
    if (schema.items) value.forEach((item, i) => this.check(item, schema.items!, [...path, i]));
    const listType = schema['x-kubernetes-list-type'];
    if (listType === 'set' || listType === 'map') {
      const keys = schema['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const key =
          listType === 'set'
            ? show(item)
            : show(keys.map((k) => (isPlainObject(item) ? item[k] : undefined)));
        if (seen.has(key)) this.invalid([...path, i], `Duplicate value: ${key}`);
        seen.add(key);
      });
    }
  }

  checkObject(value: Record<string, unknown>, schema: JsonSchemaProps, path: SchemaPath): void {
    const properties = schema.properties ?? {};
    if (this.defaults) {
      for (const [name, sub] of Object.entries(properties)) {
        if (value[name] === undefined && sub.default !== undefined) value[name] = clone(sub.default);
      }
    }
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    const additional = schema.additionalProperties;
    for (const [name, child] of Object.entries(value)) {
      const sub = properties[name];
      if (sub) this.check(child, sub, [...path, name]);
      else if (typeof additional === 'object') this.check(child, additional, [...path, name]);
      else if (!preserve && additional !== true && this.prune) {
        delete value[name];
        this.issues.push({
          path: [...path, name],
          type: 'unknown-field',
          message: `unknown field "${formatSchemaPath([...path, name])}"`,
        });
      }
    }
    for (const name of schema.required ?? []) {
      if (value[name] === undefined) this.invalid([...path, name], 'Required value');
    }
    const count = Object.keys(value).length;
    if (schema.minProperties !== undefined && count < schema.minProperties) {
      this.invalid(path, `should have at least ${schema.minProperties} properties`);
    }
    if (schema.maxProperties !== undefined && count > schema.maxProperties) {
      this.invalid(path, `should have at most ${schema.maxProperties} properties`);
    }
  }

  checkJunctors(value: unknown, schema: JsonSchemaProps, path: SchemaPath): void {
    if (schema.oneOf) {
      const matches = schema.oneOf.filter((branch) => Validator.satisfies(value, branch)).length;
      if (matches !== 1) {
        this.invalid(
          path,
          `must validate one and only one schema (oneOf); ${matches === 0 ? 'none' : matches} of the alternatives match`,
        );
      }
    }
    if (schema.anyOf && !schema['x-kubernetes-int-or-string']) {
      if (!schema.anyOf.some((branch) => Validator.satisfies(value, branch)))
        this.invalid(path, 'must validate at least one schema (anyOf)');
    }
    for (const branch of schema.allOf ?? []) {
      if (!Validator.satisfies(value, branch)) this.invalid(path, 'must validate all the schemas (allOf)');
    }
    if (schema.not && Validator.satisfies(value, schema.not))
      this.invalid(path, 'must not validate the schema (not)');
  }
}

/**
 * Validates `value` in place against `schema` (pruning unknown fields and filling defaults unless
 * told otherwise) and returns what was wrong; an empty list means valid. At the root, `apiVersion`,
 * `kind` and `metadata` are left to the caller, as the apiserver handles them separately.
 */
export function validateAgainstSchema(
  value: unknown,
  schema: JsonSchemaProps,
  options: ValidateOptions = {},
): SchemaIssue[] {
  const v = new Validator(options.prune ?? true, options.applyDefaults ?? true);
  if (isPlainObject(value) && schema.type === 'object' && schema.properties) {
    const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = schema.properties;
    v.check(
      value,
      {
        ...schema,
        properties: {
          ...rest,
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
      [],
    );
  } else {
    v.check(value, schema, []);
  }
  return v.issues;
}
