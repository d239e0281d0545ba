// Kubernetes-style YAML (or JSON) manifests → objects of known kinds. Multi-document files and
// `kind: List` are supported; each document is dispatched on apiVersion/kind, checked like the
// apiserver would (metadata, served version, the CRD's OpenAPI schema with defaults) and
// normalised to the version the controllers read. A bad document becomes a ManifestError with file,
// document number, line, column and field; the other documents are unaffected.
import { createHash } from 'node:crypto';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import {
  crdManifests,
  formatSchemaPath,
  validateAgainstSchema,
  type JsonSchemaProps,
  type SchemaPath,
} from '../crds/index.js';
import {
  apiVersionOf,
  kindKey,
  parseApiVersion,
  type KubeObject,
  type ResourceKind,
} from '../resources/index.js';
import { ManifestError, type ManifestErrorReason } from './manifest-error.js';

export interface ParsedObject {
  kind: ResourceKind;
  object: KubeObject;
  file: string;
  document: number;
  line: number;
}

export interface ParseResult {
  objects: ParsedObject[];
  /** Documents that were skipped. */
  errors: ManifestError[];
  /** Documents that were accepted with changes (unknown fields dropped). */
  warnings: ManifestError[];
}

export interface ParseOptions {
  /** Kinds to accept. */
  kinds: readonly ResourceKind[];
  /** Namespace for namespaced objects that name none. Default `default`. */
  defaultNamespace?: string;
  /** creationTimestamp for objects without one. Default: leave it unset (the caller decides). */
  creationTimestamp?: Date;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

let schemaIndex: Map<string, JsonSchemaProps> | undefined;
/** openAPIV3Schema by `group/version/Kind`, for every served version of our CRDs. */
function schemaFor(group: string, version: string, kind: string): JsonSchemaProps | undefined {
  if (!schemaIndex) {
    schemaIndex = new Map();
    for (const crd of crdManifests({ gatewayApi: true })) {
      for (const v of crd.spec.versions)
        schemaIndex.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, v.schema.openAPIV3Schema);
    }
  }
  return schemaIndex.get(`${group}/${version}/${kind}`);
}

/** RFC 3339 with whole seconds, as metav1.Time is written. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function deterministicUid(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

interface Locator {
  (path: SchemaPath): { line: number; column: number };
}

function locator(doc: Document, counter: LineCounter, base: SchemaPath): Locator {
  return (path) => {
    const full = [...base, ...path];
    for (let i = full.length; i >= 0; i--) {
      const node = i === 0 ? doc.contents : doc.getIn(full.slice(0, i), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) {
        const pos = counter.linePos(range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return { line: 1, column: 1 };
  };
}

export function parseManifests(text: string, file: string, options: ParseOptions): ParseResult {
  const result: ParseResult = { objects: [], errors: [], warnings: [] };
  const counter = new LineCounter();
  let docs: Document[];
  try {
    docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false }) as unknown as Document[];
    if (!Array.isArray(docs)) docs = [];
  } catch (err) {
    result.errors.push(
      new ManifestError(`cannot parse YAML: ${(err as Error).message}`, {
        reason: 'yaml_syntax',
        file,
        document: 0,
        cause: err,
      }),
    );
    return result;
  }
  docs.forEach((doc, index) => {
    const document = index + 1;
    const fail = (
      reason: ManifestErrorReason,
      message: string,
      at: { line: number; column: number },
      field?: string,
      hint?: string,
    ) =>
      result.errors.push(
        new ManifestError(message, { reason, file, document, line: at.line, column: at.column, field, hint }),
      );
    const syntax = doc.errors[0];
    if (syntax) {
      const pos = syntax.linePos?.[0] ?? counter.linePos(syntax.pos[0]);
      fail('yaml_syntax', `invalid YAML: ${syntax.message.split('\n')[0]}`, {
        line: pos.line,
        column: pos.col,
      });
      return;
    }
    if (doc.contents === null) return; // an empty document (e.g. a trailing ---)
    const locate = locator(doc, counter, []);
    let value: unknown;
    try {
      // Aliases are resolved here: an undefined anchor or an alias bomb fails this document only.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      fail('yaml_syntax', `invalid YAML: ${(err as Error).message}`, locate([]));
      return;
    }
    if (value === null || value === undefined) return;
    if (!isMap(doc.contents) || typeof value !== 'object' || Array.isArray(value)) {
      fail('not_an_object', 'a manifest must be a mapping with apiVersion, kind and metadata', locate([]));
      return;
    }
    const top = value as Record<string, unknown>;
    if (
      typeof top.kind === 'string' &&
      top.kind.endsWith('List') &&
      Array.isArray(top.items) &&
      isSeq(doc.getIn(['items']))
    ) {
      top.items.forEach((item, i) => handleObject(item, ['items', i], locator(doc, counter, ['items', i])));
      return;
    }
    handleObject(top, [], locate);

    function handleObject(raw: unknown, base: SchemaPath, at: Locator): void {
      const prefix = base.length ? `${formatSchemaPath(base)}: ` : '';
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        fail(
          'not_an_object',
          `${prefix}a manifest must be a mapping with apiVersion, kind and metadata`,
          at([]),
        );
        return;
      }
      const object = raw as KubeObject;
      for (const field of ['apiVersion', 'kind'] as const) {
        if (typeof object[field] !== 'string' || !object[field]) {
          fail(
            'missing_field',
            `${prefix}${field}: Required value (a string)`,
            at(object[field] === undefined ? [] : [field]),
            field,
          );
          return;
        }
      }
      const { group, version } = parseApiVersion(object.apiVersion!);
      const candidates = options.kinds.filter((k) => k.group === group && k.kind === object.kind);
      if (candidates.length === 0) {
        const known = options.kinds.map((k) => `${apiVersionOf(k)} ${k.kind}`).join(', ');
        fail(
          'unknown_kind',
          `${prefix}unknown kind ${object.kind} in ${object.apiVersion}`,
          at(['kind']),
          'kind',
          `known kinds: ${known}`,
        );
        return;
      }
      const kind = candidates.find((k) => k.servedVersions.includes(version));
      if (!kind) {
        const served = candidates.flatMap((k) => k.servedVersions).join(', ');
        fail(
          'unserved_version',
          `${prefix}${object.kind} is not served at ${object.apiVersion}`,
          at(['apiVersion']),
          'apiVersion',
          `use one of versions ${served}`,
        );
        return;
      }
      const meta = object.metadata;
      if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
        fail(
          'missing_field',
          `${prefix}metadata: Required value`,
          at(meta === undefined ? [] : ['metadata']),
          'metadata',
        );
        return;
      }
      if (typeof meta.name !== 'string' || !meta.name) {
        fail('missing_field', `${prefix}metadata.name: Required value`, at(['metadata']), 'metadata.name');
        return;
      }
      if (meta.name.length > 253 || !DNS1123_SUBDOMAIN.test(meta.name)) {
        fail(
          'invalid_name',
          `${prefix}metadata.name: Invalid value: ${JSON.stringify(meta.name)}: a lowercase RFC 1123 subdomain is required`,
          at(['metadata', 'name']),
          'metadata.name',
        );
        return;
      }
      if (kind.namespaced) {
        meta.namespace ??= options.defaultNamespace ?? 'default';
        if (
          typeof meta.namespace !== 'string' ||
          meta.namespace.length > 63 ||
          !DNS1123_LABEL.test(meta.namespace)
        ) {
          fail(
            'invalid_name',
            `${prefix}metadata.namespace: Invalid value: ${JSON.stringify(meta.namespace)}: a lowercase RFC 1123 label is required`,
            at(['metadata', 'namespace']),
            'metadata.namespace',
          );
          return;
        }
      } else {
        delete meta.namespace;
      }
      const schema = schemaFor(group, version, kind.kind);
      if (schema) {
        const issues = validateAgainstSchema(object, schema);
        const invalid = issues.filter((i) => i.type === 'invalid');
        const first = invalid[0];
        if (first) {
          const pos = at(first.path);
          const rest =
            invalid.length > 1
              ? ` (and ${invalid.length - 1} more: ${invalid
                  .slice(1, 4)
                  .map((i) => i.message)
                  .join('; ')})`
              : '';
          fail(
            'schema',
            `${prefix}${object.kind} ${meta.name} is invalid: ${first.message}${rest}`,
            pos,
            formatSchemaPath(first.path),
          );
          return;
        }
        for (const issue of issues.filter((i) => i.type === 'unknown-field')) {
          const pos = at(issue.path);
          result.warnings.push(
            new ManifestError(`${prefix}${issue.message} (dropped, as the apiserver would)`, {
              reason: 'schema',
              file,
              document,
              line: pos.line,
              column: pos.column,
              field: formatSchemaPath(issue.path),
            }),
          );
        }
      }
      // As the apiserver serves it: at the version the controllers read, with server-set fields.
      object.apiVersion = apiVersionOf(kind);
      meta.uid ??= deterministicUid(`${kindKey(kind)}/${meta.namespace ?? ''}/${meta.name}`);
      if (options.creationTimestamp) meta.creationTimestamp ??= formatTimestamp(options.creationTimestamp);
      meta.generation ??= 1;
      result.objects.push({ kind, object, file, document, line: at([]).line });
    }
  });
  return result;
}
