// The AdmissionHandler behind the policy controller's validating webhook.
import { allow, deny, type AdmissionHandler } from '@tsmesh/kube';
import type { PolicyIndexer } from '../indexing/index.js';
import { validatePolicyObject } from './validate-policy.js';

export interface PolicyAdmissionOptions {
  readonly indexer: Pick<PolicyIndexer, 'current'>;
}

export function createPolicyAdmissionHandler(options: PolicyAdmissionOptions): AdmissionHandler {
  return (request) => {
    if (request.operation === 'DELETE' || request.operation === 'CONNECT' || !request.object) return allow();
    const object = { ...request.object };
    object.apiVersion ??= request.kind.group
      ? `${request.kind.group}/${request.kind.version}`
      : request.kind.version;
    object.kind ??= request.kind.kind;
    if (object.metadata && !object.metadata.namespace && request.namespace)
      object.metadata = { ...object.metadata, namespace: request.namespace };
    const result = validatePolicyObject(object, options.indexer.current);
    return result.ok ? allow() : deny(result.message, 400);
  };
}
