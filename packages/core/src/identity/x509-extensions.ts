// The X.509 v3 extensions a mesh certificate uses, written the way step-cli and Go write them
// (basicConstraints and keyUsage critical; SAN critical only when the subject is empty, RFC 5280
// §4.2.1.6), and read back into plain values for verification and display.
import { createHash, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  GeneralName,
  KeyIdentifier,
  KeyUsage as AsnKeyUsage,
  KeyUsageFlags,
  NameConstraints as AsnNameConstraints,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  type GeneralSubtrees,
} from '@peculiar/asn1-x509';
import { MeshErrorCode } from '../errors/index.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';

export const ExtensionOid = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

/** extKeyUsage purposes by name. */
export const ExtKeyUsageOid = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** keyUsage bits by name (RFC 5280 §4.2.1.3). */
export type KeyUsage =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

const KEY_USAGE_FLAGS: Record<KeyUsage, number> = {
  digitalSignature: KeyUsageFlags.digitalSignature,
  nonRepudiation: KeyUsageFlags.nonRepudiation,
  keyEncipherment: KeyUsageFlags.keyEncipherment,
  dataEncipherment: KeyUsageFlags.dataEncipherment,
  keyAgreement: KeyUsageFlags.keyAgreement,
  keyCertSign: KeyUsageFlags.keyCertSign,
  cRLSign: KeyUsageFlags.cRLSign,
  encipherOnly: KeyUsageFlags.encipherOnly,
  decipherOnly: KeyUsageFlags.decipherOnly,
};

/** One name in a SAN or name constraint, by kind. */
export interface GeneralNameValue {
  readonly kind: 'dns' | 'uri' | 'ip' | 'email' | 'directory' | 'other';
  readonly value: string;
}

/** A CA's nameConstraints (RFC 5280 §4.2.1.10). */
export interface NameConstraints {
  readonly permitted: readonly GeneralNameValue[];
  readonly excluded: readonly GeneralNameValue[];
}

/** What the extensions of a certificate or CSR say, as plain values. */
export interface ExtensionValues {
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint; undefined when absent (unlimited). */
  readonly pathLength: number | undefined;
  /** undefined when the extension is absent (no restriction). */
  readonly keyUsage: readonly KeyUsage[] | undefined;
  /** Names for serverAuth/clientAuth/anyExtendedKeyUsage, OIDs otherwise; undefined when absent. */
  readonly extKeyUsage: readonly string[] | undefined;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly emailAddresses: readonly string[];
  /** Other SAN kinds (directoryName, otherName, …), as kind names. */
  readonly otherNames: readonly string[];
  readonly subjectKeyId: string | undefined;
  readonly authorityKeyId: string | undefined;
  readonly nameConstraints: NameConstraints | undefined;
  /** OIDs of critical extensions this library does not interpret. */
  readonly unhandledCriticalExtensions: readonly string[];
}

const HANDLED = new Set<string>(
  Object.values(ExtensionOid).filter((oid) => oid !== ExtensionOid.certificatePolicies),
);

function extension(oid: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

export function basicConstraintsExtension(isCa: boolean, pathLength?: number): Extension {
  const value = new BasicConstraints({ cA: isCa });
  if (isCa && pathLength !== undefined) value.pathLenConstraint = pathLength;
  return extension(ExtensionOid.basicConstraints, true, value);
}

export function keyUsageExtension(usages: readonly KeyUsage[]): Extension {
  const flags = usages.reduce((sum, usage) => sum | KEY_USAGE_FLAGS[usage], 0);
  return extension(ExtensionOid.keyUsage, true, new AsnKeyUsage(flags));
}

export function extKeyUsageExtension(oids: readonly string[]): Extension {
  return extension(ExtensionOid.extKeyUsage, false, new ExtendedKeyUsage([...oids]));
}

export function subjectAltNameExtension(
  names: { dnsNames?: readonly string[]; uris?: readonly string[] },
  critical: boolean,
): Extension {
  const general = [
    ...(names.dnsNames ?? []).map((dNSName) => new GeneralName({ dNSName })),
    ...(names.uris ?? []).map((uniformResourceIdentifier) => new GeneralName({ uniformResourceIdentifier })),
  ];
  return extension(ExtensionOid.subjectAltName, critical, new SubjectAlternativeName(general));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING. */
export function keyIdentifier(publicKey: KeyObject): Uint8Array {
  const spki = AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest());
}

export function subjectKeyIdExtension(id: Uint8Array): Extension {
  return extension(ExtensionOid.subjectKeyIdentifier, false, new SubjectKeyIdentifier(id));
}

export function authorityKeyIdExtension(id: Uint8Array): Extension {
  return extension(
    ExtensionOid.authorityKeyIdentifier,
    false,
    new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(id) }),
  );
}

function hex(buffer: ArrayBuffer | Uint8Array): string {
  return Buffer.from(buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer)).toString('hex');
}

function generalNameValue(name: GeneralName): GeneralNameValue {
  if (name.dNSName !== undefined) return { kind: 'dns', value: name.dNSName };
  if (name.uniformResourceIdentifier !== undefined)
    return { kind: 'uri', value: name.uniformResourceIdentifier };
  if (name.iPAddress !== undefined) return { kind: 'ip', value: name.iPAddress };
  if (name.rfc822Name !== undefined) return { kind: 'email', value: name.rfc822Name };
  if (name.directoryName !== undefined) return { kind: 'directory', value: 'directoryName' };
  if (name.otherName !== undefined) return { kind: 'other', value: `otherName:${name.otherName.typeId}` };
  if (name.registeredID !== undefined) return { kind: 'other', value: `registeredID:${name.registeredID}` };
  return { kind: 'other', value: 'unknown' };
}

function subtrees(trees: GeneralSubtrees | undefined): GeneralNameValue[] {
  return trees ? trees.map((tree) => generalNameValue(tree.base)) : [];
}

const EKU_NAMES: Record<string, string> = {
  [ExtKeyUsageOid.serverAuth]: 'serverAuth',
  [ExtKeyUsageOid.clientAuth]: 'clientAuth',
  [ExtKeyUsageOid.anyExtendedKeyUsage]: 'anyExtendedKeyUsage',
};

/** Reads extensions into plain values. Throws `malformed` on duplicates or undecodable values. */
export function readExtensions(extensions: readonly Extension[] | undefined, where: string): ExtensionValues {
  const values = {
    isCa: false,
    pathLength: undefined as number | undefined,
    keyUsage: undefined as KeyUsage[] | undefined,
    extKeyUsage: undefined as string[] | undefined,
    dnsNames: [] as string[],
    uris: [] as string[],
    ipAddresses: [] as string[],
    emailAddresses: [] as string[],
    otherNames: [] as string[],
    subjectKeyId: undefined as string | undefined,
    authorityKeyId: undefined as string | undefined,
    nameConstraints: undefined as NameConstraints | undefined,
    unhandledCriticalExtensions: [] as string[],
  };
  const seen = new Set<string>();
  for (const ext of extensions ?? []) {
    const oid = ext.extnID;
    if (seen.has(oid)) {
      throw new IdentityError(MeshErrorCode.Decode, `extension ${oid} appears more than once`, {
        reason: IdentityErrorReason.Malformed,
        where,
      });
    }
    seen.add(oid);
    const raw = ext.extnValue.buffer;
    try {
      switch (oid) {
        case ExtensionOid.basicConstraints: {
          const bc = AsnConvert.parse(raw, BasicConstraints);
          values.isCa = bc.cA;
          values.pathLength = bc.pathLenConstraint;
          break;
        }
        case ExtensionOid.keyUsage: {
          const flags = AsnConvert.parse(raw, AsnKeyUsage).toNumber();
          values.keyUsage = (Object.keys(KEY_USAGE_FLAGS) as KeyUsage[]).filter(
            (usage) => flags & KEY_USAGE_FLAGS[usage],
          );
          break;
        }
        case ExtensionOid.extKeyUsage:
          values.extKeyUsage = [...AsnConvert.parse(raw, ExtendedKeyUsage)].map(
            (oidValue) => EKU_NAMES[oidValue] ?? oidValue,
          );
          break;
        case ExtensionOid.subjectAltName:
          for (const name of AsnConvert.parse(raw, SubjectAlternativeName)) {
            const value = generalNameValue(name);
            if (value.kind === 'dns') values.dnsNames.push(value.value);
            else if (value.kind === 'uri') values.uris.push(value.value);
            else if (value.kind === 'ip') values.ipAddresses.push(value.value);
            else if (value.kind === 'email') values.emailAddresses.push(value.value);
            else values.otherNames.push(value.value);
          }
          break;
        case ExtensionOid.subjectKeyIdentifier:
          values.subjectKeyId = hex(AsnConvert.parse(raw, SubjectKeyIdentifier).buffer);
          break;
        case ExtensionOid.authorityKeyIdentifier: {
          const aki = AsnConvert.parse(raw, AuthorityKeyIdentifier);
          if (aki.keyIdentifier) values.authorityKeyId = hex(aki.keyIdentifier.buffer);
          break;
        }
        case ExtensionOid.nameConstraints: {
          const nc = AsnConvert.parse(raw, AsnNameConstraints);
          values.nameConstraints = {
            permitted: subtrees(nc.permittedSubtrees),
            excluded: subtrees(nc.excludedSubtrees),
          };
          break;
        }
        default:
          if (ext.critical && !HANDLED.has(oid)) values.unhandledCriticalExtensions.push(oid);
      }
    } catch (cause) {
      if (IdentityError.is(cause)) throw cause;
      throw new IdentityError(
        MeshErrorCode.Decode,
        `extension ${oid} does not decode: ${(cause as Error).message}`,
        {
          reason: IdentityErrorReason.Malformed,
          where,
          cause,
        },
      );
    }
  }
  return values;
}
