// The CustomResourceDefinition shape (apiextensions.k8s.io/v1) as plain JSON, and a builder that
// fills in the parts every CRD of ours has in common.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { object, string, type JsonSchemaProps } from './json-schema.js';

export interface CrdNames {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  format?: string;
  priority?: number;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema: { openAPIV3Schema: JsonSchemaProps };
  subresources?: { status?: Record<string, never> };
  additionalPrinterColumns?: PrinterColumn[];
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    names: CrdNames;
    scope: 'Namespaced' | 'Cluster';
    versions: CrdVersion[];
  };
}

export interface VersionDefinition {
  name: string;
  served?: boolean;
  storage?: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  /** The schema of `.spec`. */
  spec: JsonSchemaProps;
  /** Whether `.spec` must be present (most of ours require it). Default true. */
  specRequired?: boolean;
  /** The schema of `.status`; with `statusSubresource` it is written through `/status`. */
  status?: JsonSchemaProps;
  statusSubresource?: boolean;
  printerColumns?: PrinterColumn[];
  /** Description of the whole object. */
  description?: string;
}

export interface CrdDefinition {
  group: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  categories?: string[];
  scope?: 'Namespaced' | 'Cluster';
  versions: VersionDefinition[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Build a CRD; exactly one version must be the storage version. */
export function defineCrd(def: CrdDefinition): CustomResourceDefinition {
  const storage = def.versions.filter((v) => v.storage === true);
  if (storage.length !== 1) {
    throw new MeshError(
      MeshErrorCode.Internal,
      `CRD ${def.plural}.${def.group}: exactly one storage version required, found ${storage.length}`,
    );
  }
  const names: CrdNames = {
    kind: def.kind,
    listKind: `${def.kind}List`,
    plural: def.plural,
    singular: def.kind.toLowerCase(),
  };
  if (def.shortNames?.length) names.shortNames = [...def.shortNames];
  if (def.categories?.length) names.categories = [...def.categories];
  const metadata: CustomResourceDefinition['metadata'] = { name: `${def.plural}.${def.group}` };
  if (def.labels) metadata.labels = { ...def.labels };
  if (def.annotations) metadata.annotations = { ...def.annotations };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata,
    spec: {
      group: def.group,
      names,
      scope: def.scope ?? 'Namespaced',
      versions: def.versions.map((v) => toCrdVersion(v)),
    },
  };
}

function toCrdVersion(v: VersionDefinition): CrdVersion {
  const properties: Record<string, JsonSchemaProps> = {
    apiVersion: string({ description: 'The versioned schema of this object.' }),
    kind: string({ description: 'The REST resource this object represents.' }),
    metadata: { type: 'object' },
    spec: v.spec,
  };
  if (v.status) properties.status = v.status;
  const root = object(properties, {
    description: v.description,
    required: v.specRequired === false ? undefined : ['spec'],
  });
  const out: CrdVersion = {
    name: v.name,
    served: v.served ?? true,
    storage: v.storage ?? false,
    schema: { openAPIV3Schema: root },
  };
  if (v.deprecated) out.deprecated = true;
  if (v.deprecationWarning) out.deprecationWarning = v.deprecationWarning;
  if (v.statusSubresource) out.subresources = { status: {} };
  if (v.printerColumns?.length) out.additionalPrinterColumns = v.printerColumns.map((c) => ({ ...c }));
  return out;
}
