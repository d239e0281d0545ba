// The grpc-message header value (gRPC over HTTP/2 spec, "Responses"): the status message as UTF-8,
// percent-encoding only bytes outside printable ASCII and '%' itself. encodeURIComponent would also
// encode ':' or '/', which clients (grpc-js decodes with decodeURI) then show encoded.
export function formatGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
