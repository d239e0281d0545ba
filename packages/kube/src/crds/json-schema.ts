// The subset of OpenAPI v3 that CustomResourceDefinitions accept, with small builders so the CRD
// files read like the shapes they describe. Builders return plain JSON (real key names such as
// `enum` and `x-kubernetes-int-or-string`), ready to print as YAML or send to the apiserver.

export type JsonSchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

/** A CEL rule the apiserver evaluates (`x-kubernetes-validations`). */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
}

export interface JsonSchemaProps {
  type?: JsonSchemaType;
  description?: string;
  format?: string;
  properties?: Record<string, JsonSchemaProps>;
  additionalProperties?: JsonSchemaProps | boolean;
  required?: string[];
  items?: JsonSchemaProps;
  enum?: (string | number | boolean)[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  nullable?: boolean;
  oneOf?: JsonSchemaProps[];
  anyOf?: JsonSchemaProps[];
  allOf?: JsonSchemaProps[];
  not?: JsonSchemaProps;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

/** Everything but `type`, `properties` and `items`, which the builders set. */
export type SchemaOptions = Omit<JsonSchemaProps, 'type' | 'properties' | 'items'>;

function withOptions(base: JsonSchemaProps, options: SchemaOptions = {}): JsonSchemaProps {
  const out: JsonSchemaProps = { ...base };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

export function string(options?: SchemaOptions): JsonSchemaProps {
  return withOptions({ type: 'string' }, options);
}

export function integer(options?: SchemaOptions): JsonSchemaProps {
  return withOptions({ type: 'integer' }, options);
}

export function int32(options?: SchemaOptions): JsonSchemaProps {
  return integer({ format: 'int32', ...options });
}

export function int64(options?: SchemaOptions): JsonSchemaProps {
  return integer({ format: 'int64', ...options });
}

export function number(options?: SchemaOptions): JsonSchemaProps {
  return withOptions({ type: 'number' }, options);
}

export function boolean(options?: SchemaOptions): JsonSchemaProps {
  return withOptions({ type: 'boolean' }, options);
}

/** A string constrained to a closed set of values. */
export function stringEnum(values: readonly string[], options?: SchemaOptions): JsonSchemaProps {
  return withOptions({ type: 'string', enum: [...values] }, options);
}

export function object(
  properties: Record<string, JsonSchemaProps>,
  options?: SchemaOptions,
): JsonSchemaProps {
  return withOptions({ type: 'object', properties }, options);
}

export function array(items: JsonSchemaProps, options?: SchemaOptions): JsonSchemaProps {
  return withOptions({ type: 'array', items }, options);
}

/** A map of string values (labels, annotations, matchLabels). */
export function stringMap(options?: SchemaOptions): JsonSchemaProps {
  return withOptions({ type: 'object', additionalProperties: { type: 'string' } }, options);
}

/** An integer or a string, e.g. a port number or a port name. */
export function intOrString(options?: SchemaOptions): JsonSchemaProps {
  return withOptions(
    { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
    options,
  );
}

/** An object whose content the apiserver keeps as it is (no pruning, no validation). */
export function freeformObject(options?: SchemaOptions): JsonSchemaProps {
  return withOptions({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, options);
}
