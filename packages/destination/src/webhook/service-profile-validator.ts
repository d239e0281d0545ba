// The ServiceProfile validating admission webhook (Linkerd's sp-validator): refuses a
// ServiceProfile whose spec does not parse, with a message naming each bad field. Anything that
// is not a ServiceProfile, and deletions, are allowed.
import {
  allow,
  createAdmissionWebhookServer,
  deny,
  type AdmissionDecision,
  type AdmissionRequest,
  type AdmissionWebhookServer,
  type Logger,
} from '@tsmesh/kube';
import type { Registry } from 'prom-client';
import { parseServiceProfileSpec } from '../domain/index.js';

/** The path Linkerd's sp-validator serves. */
export const SP_VALIDATOR_PATH = '/';

export function validateServiceProfileRequest(request: AdmissionRequest): AdmissionDecision {
  if (request.operation === 'DELETE' || request.kind?.kind !== 'ServiceProfile') return allow();
  const object = request.object;
  const name = object?.metadata?.name ?? request.name ?? '';
  const parsed = parseServiceProfileSpec(object?.spec);
  if (parsed.ok) return allow();
  return deny(`ServiceProfile "${name}" is invalid: ${parsed.problems.join('; ')}`, 400);
}

export interface ServiceProfileValidatorOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly host?: string;
  /** Default 8443 (Linkerd's sp-validator); 0 for a free port. */
  readonly port?: number;
  readonly logger?: Logger;
  readonly registry?: Registry;
}

/** The webhook server, not yet started (call `start()`, then `close()`). */
export function createServiceProfileValidator(
  options: ServiceProfileValidatorOptions,
): AdmissionWebhookServer {
  return createAdmissionWebhookServer({
    certFile: options.certFile,
    keyFile: options.keyFile,
    host: options.host,
    port: options.port ?? 8443,
    logger: options.logger,
    registry: options.registry,
    handlers: {
      [SP_VALIDATOR_PATH]: validateServiceProfileRequest,
      '/validate': validateServiceProfileRequest,
    },
  });
}
