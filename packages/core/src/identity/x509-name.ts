// X.501 distinguished names: building the CN-only subjects the mesh uses, and showing any name
// readably ("CN=identity.linkerd.cluster.local, O=example") in certificate fields and errors.
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';

const COMMON_NAME = '2.5.4.3';

const SHORT_NAMES: Record<string, string> = {
  [COMMON_NAME]: 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** The DER of a name with only a common name (UTF8String), or of the empty name when `commonName` is empty. */
export function encodeCommonNameSubject(commonName: string | undefined): Uint8Array {
  const name = commonName
    ? new Name([
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({
            type: COMMON_NAME,
            value: new AttributeValue({ utf8String: commonName }),
          }),
        ]),
      ])
    : new Name([]);
  return new Uint8Array(AsnConvert.serialize(name));
}

/** A readable form of a name: attributes in encoded order, `TYPE=value`, comma-separated. */
export function formatName(name: Name): string {
  return name
    .map((rdn) => rdn.map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`).join('+'))
    .join(', ');
}

/** The (first) common name of a name, or undefined. */
export function commonNameOf(name: Name): string | undefined {
  for (const rdn of name) {
    for (const atv of rdn) if (atv.type === COMMON_NAME) return atv.value.toString();
  }
  return undefined;
}
