// admission.k8s.io/v1 AdmissionReview: what the apiserver sends a webhook and what it expects
// back, plus JSON Patch (RFC 6902) operations for mutating responses.
import type { KubeObject } from '../resources/index.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest<T extends KubeObject = KubeObject> {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: AdmissionOperation;
  userInfo: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: T | null;
  oldObject?: T | null;
  dryRun?: boolean;
  options?: KubeObject | null;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code?: number; message?: string; reason?: string };
  /** base64 of the JSON Patch document. */
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview<T extends KubeObject = KubeObject> {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  request?: AdmissionRequest<T>;
  response?: AdmissionResponse;
}

export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** A handler's answer. */
export type AdmissionDecision =
  | {
      allowed: true;
      patch?: JsonPatchOperation[];
      warnings?: string[];
      auditAnnotations?: Record<string, string>;
    }
  | {
      allowed: false;
      message: string;
      code?: number;
      reason?: string;
      warnings?: string[];
      auditAnnotations?: Record<string, string>;
    };

export function allow(patch?: JsonPatchOperation[], warnings?: string[]): AdmissionDecision {
  return { allowed: true, patch, warnings };
}

/** Refuse with a message the user sees in kubectl's error (code 403 unless given). */
export function deny(message: string, code = 403, reason?: string): AdmissionDecision {
  return { allowed: false, message, code, reason };
}

/** A JSON Pointer (RFC 6901) from path segments: `['metadata', 'annotations', 'a/b']` → `/metadata/annotations/a~1b`. */
export function jsonPointer(...segments: (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The AdmissionReview the webhook answers with. */
export function toAdmissionReviewResponse(uid: string, decision: AdmissionDecision): AdmissionReview {
  const response: AdmissionResponse = { uid, allowed: decision.allowed };
  if (decision.allowed) {
    if (decision.patch?.length) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
    }
  } else {
    response.status = { code: decision.code ?? 403, message: decision.message };
    if (decision.reason) response.status.reason = decision.reason;
  }
  if (decision.warnings?.length) response.warnings = [...decision.warnings];
  if (decision.auditAnnotations) response.auditAnnotations = { ...decision.auditAnnotations };
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
