// Errors from the Kubernetes API, as MeshErrors that keep the HTTP status, the Status reason and
// the field-level causes (what a 422 names), so callers can tell "gone" from "invalid" from
// "conflict" without parsing messages.
import { MeshError, MeshErrorCode } from '@tsmesh/core';

/** A `metav1.Status` as the apiserver returns it for failures. */
export interface KubeStatus {
  kind?: 'Status';
  apiVersion?: string;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: KubeStatusCause[];
    retryAfterSeconds?: number;
  };
}

export interface KubeStatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

function meshCodeFor(statusCode: number): MeshErrorCode {
  switch (statusCode) {
    case 400:
    case 422:
      return MeshErrorCode.InvalidArgument;
    case 401:
      return MeshErrorCode.Unauthenticated;
    case 403:
      return MeshErrorCode.PermissionDenied;
    case 404:
      return MeshErrorCode.NotFound;
    case 409:
    case 410:
      return MeshErrorCode.FailedPrecondition;
    case 408:
    case 504:
      return MeshErrorCode.Timeout;
    default:
      return statusCode === 429 || statusCode >= 500 ? MeshErrorCode.Unavailable : MeshErrorCode.Internal;
  }
}

const BRAND = Symbol.for('@tsmesh/kube.KubeApiError');

export class KubeApiError extends MeshError {
  /** The HTTP status (or the `code` of a watch ERROR event). */
  readonly statusCode: number;
  /** The Status reason: `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Expired`, `Gone`, … */
  readonly reason: string | undefined;
  /** Field-level causes; for 422 each names the offending field (`spec.port`). */
  readonly causes: readonly KubeStatusCause[];
  readonly status: KubeStatus;

  constructor(statusCode: number, status: KubeStatus, where: string) {
    const message = status.message || `HTTP ${statusCode}`;
    super(meshCodeFor(statusCode), message, { where });
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = status.reason;
    this.causes = status.details?.causes ?? [];
    this.status = status;
    Object.defineProperty(this, BRAND, { value: true });
  }

  // MeshError's brand check would make every MeshError an instance of this class; use our own.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** True for any KubeApiError with this HTTP status. */
  static hasStatus(err: unknown, statusCode: number): err is KubeApiError {
    return err instanceof KubeApiError && err.statusCode === statusCode;
  }
}

/** The resourceVersion asked for is older than the apiserver keeps: relist. */
export function isGone(err: unknown): boolean {
  return KubeApiError.hasStatus(err, 410) || (err instanceof KubeApiError && err.reason === 'Expired');
}

export function isNotFound(err: unknown): boolean {
  return KubeApiError.hasStatus(err, 404);
}

export function isConflict(err: unknown): boolean {
  return KubeApiError.hasStatus(err, 409);
}
