export {
  ISSUER_SECRET_NAME,
  IssuerSecretKeys,
  readIssuerSecretData,
  TRUST_ROOTS_CONFIGMAP_NAME,
  TRUST_ROOTS_KEY,
  type IssuerMaterial,
} from './issuer-material.js';
export {
  createIssuerStore,
  usableIssuer,
  type IssuerStore,
  type IssuerStoreOptions,
} from './issuer-store.js';
export type { IssuedLeaf, SigningIssuer } from './signing-issuer.js';
export { readIssuerDir, watchIssuerDir, type FileIssuerSourceOptions } from './file-issuer-source.js';
export { watchKubeIssuer, type KubeIssuerSourceOptions } from './kube-issuer-source.js';
export { classifyIssuerError, loadSigningIssuer, type IssuancePolicy } from './load-signing-issuer.js';
export { createCsrVerifier, type CsrVerifier } from './csr-verifier.js';
