export {
  MAX_CLIENT_HELLO_BYTES,
  parseClientHello,
  TLS_HANDSHAKE,
  type ClientHello,
  type ClientHelloResult,
} from './client-hello.js';
export { detectProtocol, type Detection, type DetectOptions } from './detect-protocol.js';
export { H2_PREFACE, sniffProtocol, type Protocol, type SniffResult } from './sniff.js';
