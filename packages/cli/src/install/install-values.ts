// From command-line flags to complete values: defaults, --ha overlay, --values files in order,
// --set flags in order, the dedicated flags, then validation and certificates.
import { completeCertificates } from './certificates.js';
import {
  defaultValues,
  haValues,
  mergeValues,
  parseSetFlag,
  readValuesFile,
  validateValues,
  type InstallValues,
  type Values,
} from './values.js';

export interface InstallFlags {
  ha?: boolean;
  values?: string[];
  set?: string[];
  identityTrustAnchorsFile?: string;
  identityIssuerCertificateFile?: string;
  identityIssuerKeyFile?: string;
  identityTrustDomain?: string;
  clusterDomain?: string;
  controllerNamespace?: string;
  /** Skip certificate generation (e.g. --print-values). */
  noCertificates?: boolean;
}

/** Values for an install; `base` replaces the defaults (upgrade passes what the cluster holds). */
export function resolveInstallValues(
  flags: InstallFlags,
  base: Values = {},
  now = new Date(),
): InstallValues {
  const overlays: Values[] = [base];
  if (flags.ha) overlays.push(haValues());
  for (const file of flags.values ?? []) overlays.push(readValuesFile(file));
  for (const set of flags.set ?? []) overlays.push(parseSetFlag(set));
  const direct: Values = {};
  if (flags.identityTrustDomain) direct.identityTrustDomain = flags.identityTrustDomain;
  if (flags.clusterDomain) direct.clusterDomain = flags.clusterDomain;
  overlays.push(direct);
  const values = validateValues(mergeValues(defaultValues(), ...overlays));
  if (flags.noCertificates) return values;
  return completeCertificates(
    values,
    flags.controllerNamespace ?? 'linkerd',
    {
      trustAnchorsFile: flags.identityTrustAnchorsFile,
      issuerCertificateFile: flags.identityIssuerCertificateFile,
      issuerKeyFile: flags.identityIssuerKeyFile,
    },
    now,
  );
}
