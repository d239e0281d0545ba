export { connectWithTransportHeader, type ConnectWithHeaderOptions } from './connect-with-header.js';
export {
  encodeTransportHeader,
  MAX_TRANSPORT_HEADER_BYTES,
  parseTransportHeader,
  TRANSPORT_HEADER_PREFACE,
  type HeaderParse,
  type SessionProtocol,
  type TransportHeader,
} from './header-codec.js';
export { readTransportHeader, type ReadHeaderOptions, type ReadHeaderResult } from './read-header.js';
