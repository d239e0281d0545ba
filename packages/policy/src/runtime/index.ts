// Runtime: start the controller in-process, or as the tsmesh-policy binary.
export { startPolicyService, type PolicyService, type PolicyServiceOptions } from './start-policy-service.js';
export { parsePolicyConfig, POLICY_USAGE, type PolicyConfig } from './policy-config.js';
export { runPolicy } from './run-policy.js';
