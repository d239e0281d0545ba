// HTTP/2 framing facts (RFC 9113 §6, §7, §11): frame types, flags, error codes and settings
// identifiers, and the client connection preface. Numbers only; what the engine does with them is in
// connection.ts.

/** The 24 octets a client opens an HTTP/2 connection with (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FRAME_HEADER_LENGTH = 9;

export const enum FrameType {
  Data = 0x0,
  Headers = 0x1,
  Priority = 0x2,
  RstStream = 0x3,
  Settings = 0x4,
  PushPromise = 0x5,
  Ping = 0x6,
  Goaway = 0x7,
  WindowUpdate = 0x8,
  Continuation = 0x9,
}

export const enum Flag {
  EndStream = 0x1,
  // SETTINGS and PING use the same bit as END_STREAM for ACK (RFC 9113 §6.5, §6.7).
  // eslint-disable-next-line @typescript-eslint/no-duplicate-enum-values
  Ack = 0x1,
  EndHeaders = 0x4,
  Padded = 0x8,
  Priority = 0x20,
}

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 §7). */
export const H2Error = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const ERROR_NAMES = Object.keys(H2Error);

/** `PROTOCOL_ERROR`, or `0x2a` for a code RFC 9113 does not name. */
export function h2ErrorName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

export const enum Setting {
  HeaderTableSize = 0x1,
  EnablePush = 0x2,
  MaxConcurrentStreams = 0x3,
  InitialWindowSize = 0x4,
  MaxFrameSize = 0x5,
  MaxHeaderListSize = 0x6,
  EnableConnectProtocol = 0x8,
}

/** The values every peer starts from (RFC 9113 §6.5.2); MAX_CONCURRENT_STREAMS is unlimited. */
export const DEFAULT_WINDOW_SIZE = 65_535;
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_MAX_FRAME_SIZE = 16_777_215;
export const MAX_WINDOW_SIZE = 0x7fff_ffff;
export const MAX_STREAM_ID = 0x7fff_ffff;
