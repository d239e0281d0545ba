export { createCertifyHandler, type CertifyHandler, type CertifyHandlerOptions } from './certify-handler.js';
export { classifyRefusal } from './refusal.js';
