// A check of the apiextensions "structural schema" rules, so a CRD we ship is known to be
// accepted (and pruned as intended) before any apiserver sees it. It reports every problem with
// the JSON path of the offending node. Rules, as the apiextensions documentation states them:
//  1. every node has a non-empty `type`, except `x-kubernetes-int-or-string` nodes;
//  2. a field or item used inside allOf/anyOf/oneOf/not is also declared outside of them;
//  3. junctors do not set description, type, default, additionalProperties or nullable
//     (the int-or-string `anyOf: [integer, string]` pattern excepted);
//  4. `metadata` at the root only constrains name and generateName.
// Plus consistency checks the apiserver also makes: `properties` and `additionalProperties`
// exclusive, arrays have `items`, map-list keys are required scalars, enums match the type.
import type { CustomResourceDefinition } from './crd.js';
import type { JsonSchemaProps } from './json-schema.js';

const JUNCTORS = ['allOf', 'anyOf', 'oneOf'] as const;
const FORBIDDEN_IN_JUNCTORS = ['type', 'description', 'default', 'additionalProperties', 'nullable'] as const;

function isIntOrStringPattern(branches: JsonSchemaProps[] | undefined): boolean {
  if (!branches || branches.length !== 2) return false;
  const types = branches.map((b) => (Object.keys(b).length === 1 ? b.type : undefined)).sort();
  return types[0] === 'integer' && types[1] === 'string';
}

function enumMatchesType(value: unknown, type: string | undefined): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

function checkJunctorBranch(
  branch: JsonSchemaProps,
  outer: JsonSchemaProps,
  path: string,
  out: string[],
): void {
  for (const key of FORBIDDEN_IN_JUNCTORS) {
    if (branch[key] !== undefined) out.push(`${path}: sets '${key}' inside a junctor`);
  }
  const declared = outer.properties ?? {};
  for (const name of branch.required ?? []) {
    if (!(name in declared))
      out.push(`${path}: requires '${name}', which is not declared outside the junctor`);
  }
  for (const [name, sub] of Object.entries(branch.properties ?? {})) {
    if (!(name in declared)) out.push(`${path}.properties.${name}: not declared outside the junctor`);
    else checkJunctorBranch(sub, declared[name] ?? {}, `${path}.properties.${name}`, out);
  }
  if (branch.items) {
    if (!outer.items) out.push(`${path}.items: not declared outside the junctor`);
    else checkJunctorBranch(branch.items, outer.items, `${path}.items`, out);
  }
  for (const junctor of JUNCTORS) {
    branch[junctor]?.forEach((b, i) => checkJunctorBranch(b, outer, `${path}.${junctor}[${i}]`, out));
  }
  if (branch.not) checkJunctorBranch(branch.not, outer, `${path}.not`, out);
}

function checkNode(node: JsonSchemaProps, path: string, out: string[]): void {
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  if (intOrString) {
    if (node.type !== undefined) out.push(`${path}: x-kubernetes-int-or-string must not set 'type'`);
  } else if (!node.type) {
    out.push(`${path}: missing 'type'`);
  }
  if (
    node['x-kubernetes-preserve-unknown-fields'] !== undefined &&
    node['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.push(`${path}: x-kubernetes-preserve-unknown-fields must be true when set`);
  }
  if (node.properties && node.type !== 'object') out.push(`${path}: 'properties' on a non-object`);
  if (node.required && node.type !== 'object') out.push(`${path}: 'required' on a non-object`);
  if (node.properties && node.additionalProperties !== undefined) {
    out.push(`${path}: 'properties' and 'additionalProperties' are mutually exclusive`);
  }
  if (node.type === 'array' && !node.items) out.push(`${path}: array without 'items'`);
  if (node.items && node.type !== 'array') out.push(`${path}: 'items' on a non-array`);
  for (const name of node.required ?? []) {
    if (node.properties && !(name in node.properties))
      out.push(`${path}: requires undeclared property '${name}'`);
  }
  if (node.enum) {
    for (const value of node.enum) {
      if (!enumMatchesType(value, node.type))
        out.push(`${path}: enum value ${JSON.stringify(value)} is not of type ${node.type}`);
    }
  }
  const listType = node['x-kubernetes-list-type'];
  const mapKeys = node['x-kubernetes-list-map-keys'];
  if (mapKeys && listType !== 'map')
    out.push(`${path}: x-kubernetes-list-map-keys without x-kubernetes-list-type: map`);
  if (listType === 'map') {
    const items = node.items;
    if (!mapKeys?.length) out.push(`${path}: list-type map needs x-kubernetes-list-map-keys`);
    if (!items || items.type !== 'object') out.push(`${path}: list-type map needs object items`);
    for (const key of mapKeys ?? []) {
      const keySchema = items?.properties?.[key];
      if (!keySchema) out.push(`${path}: map key '${key}' is not a property of the items`);
      else if (!['string', 'integer', 'number', 'boolean'].includes(keySchema.type ?? '')) {
        out.push(`${path}: map key '${key}' must be a scalar`);
      } else if (!items?.required?.includes(key) && keySchema.default === undefined) {
        out.push(`${path}: map key '${key}' must be required or defaulted`);
      }
    }
  }
  for (const rule of node['x-kubernetes-validations'] ?? []) {
    if (!rule.rule.trim()) out.push(`${path}: empty x-kubernetes-validations rule`);
  }
  for (const junctor of JUNCTORS) {
    const branches = node[junctor];
    if (!branches) continue;
    if (intOrString && junctor !== 'oneOf' && isIntOrStringPattern(branches)) continue;
    branches.forEach((b, i) => checkJunctorBranch(b, node, `${path}.${junctor}[${i}]`, out));
  }
  if (node.not) checkJunctorBranch(node.not, node, `${path}.not`, out);
  for (const [name, sub] of Object.entries(node.properties ?? {}))
    checkNode(sub, `${path}.properties.${name}`, out);
  if (typeof node.additionalProperties === 'object')
    checkNode(node.additionalProperties, `${path}.additionalProperties`, out);
  if (node.items) checkNode(node.items, `${path}.items`, out);
}

/** Problems that keep `schema` (a version's openAPIV3Schema) from being structural; empty if none. */
export function structuralSchemaProblems(schema: JsonSchemaProps, path = 'openAPIV3Schema'): string[] {
  const out: string[] = [];
  if (schema.type !== 'object') out.push(`${path}: the root must be of type object`);
  const metadata = schema.properties?.metadata;
  if (metadata) {
    for (const key of Object.keys(metadata)) {
      if (key !== 'type' && key !== 'properties')
        out.push(`${path}.properties.metadata: only name and generateName may be constrained`);
    }
    for (const key of Object.keys(metadata.properties ?? {})) {
      if (key !== 'name' && key !== 'generateName') {
        out.push(
          `${path}.properties.metadata.properties.${key}: only name and generateName may be constrained`,
        );
      }
    }
  }
  checkNode(schema, path, out);
  return out;
}

/** Problems with a whole CRD: every version's schema, and exactly one storage version. */
export function crdProblems(crd: CustomResourceDefinition): string[] {
  const out: string[] = [];
  const name = crd.metadata.name;
  if (name !== `${crd.spec.names.plural}.${crd.spec.group}`)
    out.push(`${name}: name must be <plural>.<group>`);
  const storage = crd.spec.versions.filter((v) => v.storage);
  if (storage.length !== 1) out.push(`${name}: ${storage.length} storage versions, need exactly one`);
  for (const version of crd.spec.versions) {
    if (version.storage && !version.served)
      out.push(`${name}/${version.name}: the storage version must be served`);
    for (const problem of structuralSchemaProblems(version.schema.openAPIV3Schema)) {
      out.push(`${name}/${version.name}: ${problem}`);
    }
  }
  return out;
}
