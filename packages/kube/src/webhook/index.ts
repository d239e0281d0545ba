export {
  AdmissionWebhookServer,
  createAdmissionWebhookServer,
  type AdmissionContext,
  type AdmissionHandler,
  type AdmissionWebhookServerOptions,
} from './admission-webhook-server.js';
export {
  ADMISSION_API_VERSION,
  allow,
  deny,
  jsonPointer,
  toAdmissionReviewResponse,
  type AdmissionDecision,
  type AdmissionOperation,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReview,
  type GroupVersionKind,
  type GroupVersionResource,
  type JsonPatchOperation,
} from './admission-review.js';
export {
  CertificateFiles,
  loadCertificatePair,
  type CertificateFilesOptions,
  type CertificatePair,
} from './certificate-files.js';
