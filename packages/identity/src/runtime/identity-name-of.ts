// The identity a ServiceAccount's token entitles it to.
export function identityNameOf(
  namespace: string,
  serviceAccount: string,
  controlPlaneNamespace: string,
  trustDomain: string,
): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.${controlPlaneNamespace}.${trustDomain}`;
}
