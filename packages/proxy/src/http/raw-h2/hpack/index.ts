// The HPACK header compression codec (RFC 7541) of the raw-socket HTTP/2 engine.
export { ByteSink, latin1Slice } from './byte-sink.js';
export { HpackDecoder, type HpackDecoderOptions } from './decoder.js';
export { HpackEncoder, type HpackEncoderOptions } from './encoder.js';
export { HpackError, HpackHeaderListTooLargeError } from './errors.js';
export { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
export { decodeInteger, encodeInteger, MAX_INTEGER, type Cursor } from './integer.js';
export {
  STATIC_NAME_INDEX,
  STATIC_NAMES,
  STATIC_PAIR_INDEX,
  STATIC_TABLE_LENGTH,
  STATIC_VALUES,
} from './static-table.js';
