// Character classes shared by the raw-socket HTTP/1.1 engine's scanners (issue #5; not wired yet):
// the head parser and the chunked-body scanner check field names and bytes the same way.

/** tchar (RFC 9110 §5.6.2): ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA. TOKEN[byte] === 1 for these. */
export const TOKEN: Uint8Array = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

/** Whether `s` is a non-empty token (RFC 9110 §5.6.2). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TOKEN[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** A control character other than HTAB, or DEL: never allowed in field values (RFC 9110 §5.5). */
export function isControl(c: number): boolean {
  return (c < 0x20 && c !== 0x09) || c === 0x7f;
}

/** A byte as two hex digits, for error messages. */
export function hex(c: number): string {
  return c.toString(16).padStart(2, '0');
}

/** The value of a hex digit (RFC 5234 HEXDIG, either case), or -1. */
export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
