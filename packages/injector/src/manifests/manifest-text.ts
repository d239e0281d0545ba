// Manifest text in, manifest text out, for `tsmesh inject`/`uninject`: multi-document YAML stays
// YAML (documents that did not change are written back exactly as they were, comments included),
// JSON stays JSON. A document that does not parse stops the run with its place named.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { parseAllDocuments, stringify } from 'yaml';
import type { InjectReportEntry, InjectResult, Workload } from '../inject/index.js';

/** kubectl's layout: no line folding, sequences not indented under their key. */
const YAML_OPTIONS = { lineWidth: 0, indentSeq: false } as const;

export type ManifestFormat = 'yaml' | 'json';

export interface TransformManifestsOptions {
  /** Output format; default the input's. */
  output?: ManifestFormat;
  /** Where the text came from, for error messages (a file name or `-`). */
  source?: string;
}

export interface TransformManifestsResult {
  readonly text: string;
  readonly format: ManifestFormat;
  readonly entries: readonly InjectReportEntry[];
}

export function detectFormat(text: string): ManifestFormat {
  return /^\s*[[{]/.test(text) ? 'json' : 'yaml';
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** A document's own text (with the comments above it), without its `---` marker. */
function sourceOf(text: string, from: number, to: number): string {
  const lines = text.slice(from, to).split('\n');
  const marker = lines.findIndex((l) => /^---(\s|$)/.test(l));
  const body =
    marker >= 0 && lines.slice(0, marker).every((l) => l.trim() === '') ? lines.slice(marker + 1) : lines;
  return body.join('\n').replace(/^\n+/, '').replace(/\s*$/, '\n');
}

/** Applies `transform` to every object of a manifest text. */
export function transformManifests(
  text: string,
  transform: (object: Workload) => InjectResult,
  options: TransformManifestsOptions = {},
): TransformManifestsResult {
  const source = options.source ?? '-';
  const inputFormat = detectFormat(text);
  const format = options.output ?? inputFormat;
  const entries: InjectReportEntry[] = [];

  if (inputFormat === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new MeshError(MeshErrorCode.InvalidArgument, `not valid JSON: ${(err as Error).message}`, {
        where: source,
      });
    }
    const objects = Array.isArray(value) ? value : [value];
    const out = objects.map((o) => {
      if (typeof o !== 'object' || o === null) return o;
      const result = transform(o as Workload);
      entries.push(...result.report.entries);
      return result.object;
    });
    const body = Array.isArray(value) ? out : out[0];
    const rendered =
      format === 'json'
        ? `${JSON.stringify(body, null, 2)}\n`
        : out.map((o) => stringify(o, YAML_OPTIONS)).join('---\n');
    return { text: rendered, format, entries };
  }

  const documents = parseAllDocuments(text, { prettyErrors: false });
  const parts: string[] = [];
  let previousEnd = 0;
  const jsonOut: unknown[] = [];
  for (const [index, doc] of (Array.isArray(documents) ? documents : [documents]).entries()) {
    const error = doc.errors[0];
    if (error) {
      throw new MeshError(
        MeshErrorCode.InvalidArgument,
        `YAML document ${index + 1} does not parse: ${error.message}`,
        {
          where: `${source}:${lineOf(text, error.pos[0])}`,
          hint: 'kubectl apply --dry-run=client -f FILE shows the same problem',
        },
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) {
      previousEnd = doc.range[2];
      continue;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new MeshError(
        MeshErrorCode.InvalidArgument,
        `YAML document ${index + 1} is not a Kubernetes object`,
        {
          where: `${source}:${lineOf(text, doc.range[0])}`,
        },
      );
    }
    const result = transform(value as Workload);
    entries.push(...result.report.entries);
    jsonOut.push(result.object);
    if (format === 'yaml') {
      const kept = result.report.changed
        ? stringify(result.object, YAML_OPTIONS)
        : sourceOf(text, previousEnd, doc.range[2]);
      parts.push(kept.endsWith('\n') ? kept : `${kept}\n`);
    }
    previousEnd = doc.range[2];
  }
  if (format === 'json') {
    const body = jsonOut.length === 1 ? jsonOut[0] : { apiVersion: 'v1', kind: 'List', items: jsonOut };
    return { text: `${JSON.stringify(body, null, 2)}\n`, format, entries };
  }
  return { text: parts.join('---\n'), format, entries };
}
