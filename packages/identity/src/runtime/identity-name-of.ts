// The identity a ServiceAccount's token entitles it to, through the identity library's formatter
// (which also validates each part).
import { formatIdentityName } from '@tsmesh/core';

export function identityNameOf(
  namespace: string,
  serviceAccount: string,
  controlPlaneNamespace: string,
  trustDomain: string,
): string {
  return formatIdentityName({ namespace, serviceAccount, controlPlaneNamespace, trustDomain });
}
