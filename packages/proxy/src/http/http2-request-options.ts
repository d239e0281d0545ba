// The options of ClientHttp2Session.request(), as shared frozen objects. Measured (bench/README.md,
// "Memory"): a fresh options literal per call, e.g. `request(headers, { endStream: true })`, made
// node:http2 keep every client stream's objects past their scavenges — 3.1-3.8 KiB per stream
// promoted to the old generation, with any property in the literal — while no options, an empty
// literal or one shared object per value kept it at 0.3-0.4 KiB. request() copies its options
// (`{ ...options }`), so sharing them is safe. Why a fresh literal does it was not pinned down
// (it is not allocation-site pretenuring: --no-allocation-site-pretenuring changed nothing).
const END_STREAM = Object.freeze({ endStream: true });
const OPEN_STREAM = Object.freeze({ endStream: false });

/** request()'s options for a request whose body is (endStream) or is not already complete. */
export function http2RequestOptions(endStream: boolean): { readonly endStream: boolean } {
  return endStream ? END_STREAM : OPEN_STREAM;
}
