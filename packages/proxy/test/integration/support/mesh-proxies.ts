// Set-up shared by the tests that run full proxies (startHarness) against the test control plane:
// a proxy's mesh identity issued by the test CA, and the environment that points it at the
// control plane's Destination (and policy) API.
import { ProxyEnv } from '@tsmesh/core';
import { createStaticCertificateSource } from '../../../src/tls/index.js';
import type { TestCa } from '../../../src/tls/test-certs.test-support.js';
import type { TestControlPlane } from './control-plane.js';

export const CONTROL_PLANE_ID = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';

/** startHarness options for a proxy with this identity (certificate issued by the test CA). */
export const meshIdentity = (ca: TestCa, identity: string) => ({
  certificates: createStaticCertificateSource(ca.issue(identity)),
  trustAnchorsPem: ca.trustAnchorsPem,
});

/**
 * The environment of a proxy in namespace `ns` discovering through the test control plane; with
 * `policyPod` it asks the policy API too, as that pod (without, name targets balance over
 * Destination.Get alone).
 */
export function controlPlaneEnv(
  cp: Pick<TestControlPlane, 'address'>,
  ns: string,
  policyPod?: string,
): Record<string, string> {
  const env: Record<string, string> = {
    [ProxyEnv.DestinationSvcAddr]: cp.address,
    [ProxyEnv.DestinationSvcName]: CONTROL_PLANE_ID,
    [ProxyEnv.DestinationContext]: JSON.stringify({ ns, nodeName: 'local' }),
  };
  if (policyPod !== undefined) {
    env[ProxyEnv.PolicySvcAddr] = cp.address;
    env[ProxyEnv.PolicySvcName] = CONTROL_PLANE_ID;
    env[ProxyEnv.PolicyWorkload] = JSON.stringify({ ns, pod: policyPod });
  }
  return env;
}
