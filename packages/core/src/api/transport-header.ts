// The opaque-transport header (`transport.l5d.io.Header`) a proxy sends to a peer proxy after the
// `transport.l5d.io/v1\r\n\r\n` preface and a 4-byte big-endian length, inside mTLS.
import { createMessageCodec } from './message-codec.js';
import { transportHeader } from './messages.js';

/** ALPN protocol and preface line of Linkerd's opaque transport. */
export const TRANSPORT_HEADER_PROTOCOL = 'transport.l5d.io/v1';

/** Encode/decode the header body (without preface or length prefix). */
export const TransportHeaderCodec = createMessageCodec(transportHeader.Header, 'transport.l5d.io.Header');
