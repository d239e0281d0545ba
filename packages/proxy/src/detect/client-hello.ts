// A TLS ClientHello reader: enough of RFC 8446 §4.1.2 (and RFC 6066 SNI, RFC 7301 ALPN) to tell a
// TLS connection from others and route it by server name, without terminating it.

export interface ClientHello {
  /** server_name (SNI), when the client sent one. */
  readonly serverName: string | undefined;
  /** ALPN protocol names offered, in the client's order. */
  readonly alpn: readonly string[];
}

export type ClientHelloResult =
  | { readonly kind: 'hello'; readonly hello: ClientHello }
  /** The bytes so far are a valid prefix of a ClientHello: read more. */
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'not-tls' };

/** TLS record type of a handshake: a ClientHello's first byte. */
export const TLS_HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
/** Largest ClientHello we buffer: one full TLS record plus its header. */
export const MAX_CLIENT_HELLO_BYTES = 5 + 16384;

class Cursor {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  sub(n: number): Cursor {
    this.need(n);
    const c = new Cursor(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return c;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  get remaining(): number {
    return this.end - this.pos;
  }
}

/**
 * Parses the start of a connection as a TLS ClientHello. Only the first record is read (a
 * ClientHello split over several records is treated as opaque TLS without SNI, which is what
 * detection needs: it is still TLS).
 */
export function parseClientHello(buf: Buffer): ClientHelloResult {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] !== TLS_HANDSHAKE) return { kind: 'not-tls' };
  if (buf.length >= 2 && buf[1] !== 0x03) return { kind: 'not-tls' };
  if (buf.length >= 3 && (buf[2] as number) > 0x04) return { kind: 'not-tls' };
  if (buf.length < 5) return { kind: 'incomplete' };
  const recordLength = buf.readUInt16BE(3);
  if (recordLength === 0 || recordLength > 16384) return { kind: 'not-tls' };
  if (buf.length >= 6 && buf[5] !== CLIENT_HELLO) return { kind: 'not-tls' };
  if (buf.length < 5 + recordLength) return { kind: 'incomplete' };
  try {
    const rec = new Cursor(buf, 5, 5 + recordLength);
    rec.u8(); // handshake type
    const bodyLength = rec.u24();
    // A hello longer than its first record: TLS, but we cannot see the extensions.
    if (bodyLength > rec.remaining) return { kind: 'hello', hello: { serverName: undefined, alpn: [] } };
    const body = rec.sub(bodyLength);
    body.skip(2 + 32); // legacy_version, random
    body.skip(body.u8()); // legacy_session_id
    body.skip(body.u16()); // cipher_suites
    body.skip(body.u8()); // legacy_compression_methods
    let serverName: string | undefined;
    const alpn: string[] = [];
    if (body.remaining > 0) {
      const exts = body.sub(body.u16());
      while (exts.remaining > 0) {
        const type = exts.u16();
        const ext = exts.sub(exts.u16());
        if (type === EXT_SERVER_NAME) {
          const list = ext.sub(ext.u16());
          while (list.remaining > 0) {
            const nameType = list.u8();
            const name = list.bytes(list.u16());
            if (nameType === 0 && serverName === undefined) serverName = name.toString('latin1');
          }
        } else if (type === EXT_ALPN) {
          const list = ext.sub(ext.u16());
          while (list.remaining > 0) alpn.push(list.bytes(list.u8()).toString('latin1'));
        }
      }
    }
    return { kind: 'hello', hello: { serverName, alpn } };
  } catch {
    return { kind: 'not-tls' };
  }
}
