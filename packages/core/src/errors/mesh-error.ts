// One error class for the whole mesh. Every failure carries a code from a closed catalogue,
// keeps its cause, and is mapped to a gRPC status in exactly one place (grpc-status.ts).

/** The closed catalogue of error codes. Add a code here, with its gRPC mapping, before using it. */
export const MeshErrorCode = {
  /** The caller sent something malformed: a bad CSR, protobuf, YAML document or config value. */
  InvalidArgument: 'invalid_argument',
  /** Decoding bytes (protobuf, PEM, DER) failed: truncated, wrong wire type, bad encoding. */
  Decode: 'decode',
  /** The caller could not be authenticated (bad, expired or unknown token). */
  Unauthenticated: 'unauthenticated',
  /** The caller is known but not allowed to do this (e.g. asks for another identity). */
  PermissionDenied: 'permission_denied',
  /** The request is well-formed but the system is not in a state to serve it (e.g. CSR/identity mismatch). */
  FailedPrecondition: 'failed_precondition',
  /** A dependency is not ready yet (no issuer loaded, control plane unreachable). Retry later. */
  Unavailable: 'unavailable',
  /** The named thing does not exist. */
  NotFound: 'not_found',
  /** A deadline passed. */
  Timeout: 'timeout',
  /** The operation was aborted through its AbortSignal. */
  Aborted: 'aborted',
  /** Configuration is invalid; start-up stops with a message naming the setting. */
  Config: 'config',
  /** A certificate or chain failed verification (expired, wrong issuer, wrong name). */
  CertificateInvalid: 'certificate_invalid',
  /** A bug: something that should be impossible happened. */
  Internal: 'internal',
} as const;
export type MeshErrorCode = (typeof MeshErrorCode)[keyof typeof MeshErrorCode];

const BRAND = Symbol.for('@tsmesh/core.MeshError');

export interface MeshErrorOptions {
  cause?: unknown;
  /** Where the problem is: a file and field, a variable name, a protobuf path. */
  where?: string;
  /** How to fix it, in one sentence. */
  hint?: string;
}

export class MeshError extends Error {
  readonly code: MeshErrorCode;
  readonly where: string | undefined;
  readonly hint: string | undefined;

  constructor(code: MeshErrorCode, message: string, options: MeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.where = options.where;
    this.hint = options.hint;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any MeshError, even one created by another copy of @tsmesh/core. */
  static is(value: unknown): value is MeshError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return MeshError.is(value);
  }

  /** The message with its location and hint, as shown to a user. */
  describe(): string {
    let text = this.message;
    if (this.where) text = `${this.where}: ${text}`;
    if (this.hint) text += ` (${this.hint})`;
    return text;
  }
}

/** Wrap anything thrown into a MeshError, keeping it as the cause. */
export function toMeshError(err: unknown, fallback: MeshErrorCode = MeshErrorCode.Internal): MeshError {
  if (MeshError.is(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new MeshError(fallback, message, { cause: err });
}
