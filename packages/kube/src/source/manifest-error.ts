// A problem with one document of a manifest file: which file, which document (1-based, as a
// person counts `---` sections), which line and column, which field — and the document is
// skipped while everything else keeps serving.
import { MeshError, MeshErrorCode } from '@tsmesh/core';

/** Bounded set of causes, usable as a metric label. */
export type ManifestErrorReason =
  | 'read_failed'
  | 'yaml_syntax'
  | 'not_an_object'
  | 'missing_field'
  | 'unknown_kind'
  | 'unserved_version'
  | 'invalid_name'
  | 'schema'
  | 'duplicate';

export interface ManifestErrorOptions {
  reason: ManifestErrorReason;
  file: string;
  /** 1-based document number within the file (0 when the whole file failed). */
  document: number;
  line?: number;
  column?: number;
  /** The field at fault, e.g. `spec.ports[0].port`. */
  field?: string;
  hint?: string;
  cause?: unknown;
}

const BRAND = Symbol.for('@tsmesh/kube.ManifestError');

export class ManifestError extends MeshError {
  readonly reason: ManifestErrorReason;
  readonly file: string;
  readonly document: number;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly field: string | undefined;

  constructor(message: string, options: ManifestErrorOptions) {
    let where = options.file;
    if (options.document > 0) where += `, document ${options.document}`;
    if (options.line !== undefined)
      where += `, line ${options.line}${options.column !== undefined ? `, column ${options.column}` : ''}`;
    super(MeshErrorCode.InvalidArgument, message, { where, hint: options.hint, cause: options.cause });
    this.name = 'ManifestError';
    this.reason = options.reason;
    this.file = options.file;
    this.document = options.document;
    this.line = options.line;
    this.column = options.column;
    this.field = options.field;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
