// Admission: validation of policy resources for the validating webhook.
export { createPolicyAdmissionHandler, type PolicyAdmissionOptions } from './admission-handler.js';
export { validatePolicyObject, type Validation } from './validate-policy.js';
