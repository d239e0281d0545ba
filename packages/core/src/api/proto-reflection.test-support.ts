// Test support: the .proto files read through protobufjs' reflection, the generated class for each
// message type, and sample messages built from the reflected fields. Used only by *.test.ts.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import Long from 'long';
import { google, io, transport } from './generated/proto.js';
import type { MessageClass } from './message-codec.js';
import { installMessageConversions } from './message-conversions.js';

// The tests compare messages through fromObject/toObject, which `@tsmesh/core` installs.
installMessageConversions();

export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

export const PROTO_FILES = readdirSync(PROTO_DIR)
  .filter((name) => name.endsWith('.proto'))
  .sort();

/** All .proto files parsed by protobufjs (field names camelCased, as in the generated code). */
export function loadProtoRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    isAbsolute(target) || target.startsWith('google/protobuf/') ? target : join(PROTO_DIR, target);
  root.loadSync(PROTO_FILES.map((file) => join(PROTO_DIR, file)));
  root.resolveAll();
  return root;
}

/** Every message type, depth first, in declaration order. */
export function allMessageTypes(root: protobuf.Root): protobuf.Type[] {
  const types: protobuf.Type[] = [];
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Type) types.push(child);
      if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) walk(child);
    }
  };
  walk(root);
  return types;
}

/** The fully qualified name without protobufjs' leading dot. */
export function fullName(type: protobuf.ReflectionObject): string {
  return type.fullName.replace(/^\./, '');
}

export interface GeneratedClass extends MessageClass<object, object> {
  fromObject(object: Record<string, unknown>): object;
  toObject(message: object, options?: protobuf.IConversionOptions): Record<string, unknown>;
}

const generatedRoots: Record<string, unknown> = { google, io, transport };

/** The generated static class for a fully qualified message name. */
export function generatedClass(name: string): GeneratedClass {
  let node: unknown = generatedRoots;
  for (const part of name.split('.')) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  if (typeof node !== 'function') throw new Error(`no generated class for ${name}`);
  return node as unknown as GeneratedClass;
}

/** Conversion options that make decoded messages comparable with toEqual. */
export const COMPARABLE: protobuf.IConversionOptions = { longs: String, enums: String, bytes: Array };

const MAX_DEPTH = 4;

/**
 * Sample messages for `type`: sample `i` sets member `i % n` of every oneof (so all members are
 * covered across samples), every other field a non-default value, repeated fields and maps two
 * entries; recursion stops at a fixed depth.
 */
export function sampleMessages(type: protobuf.Type): Record<string, unknown>[] {
  const variants = Math.max(1, ...type.oneofsArray.map((oneof) => oneof.fieldsArray.length));
  return Array.from({ length: variants }, (_, variant) => sampleMessage(type, variant, 0));
}

function sampleMessage(type: protobuf.Type, variant: number, depth: number): Record<string, unknown> {
  const message: Record<string, unknown> = {};
  const chosen = new Set(
    type.oneofsArray.map((oneof) => oneof.fieldsArray[variant % oneof.fieldsArray.length]),
  );
  for (const field of type.fieldsArray) {
    if (field.partOf && !chosen.has(field)) continue;
    if (field.resolvedType instanceof protobuf.Type && depth >= MAX_DEPTH) continue;
    if (field.map) {
      const mapField = field as unknown as protobuf.MapField;
      message[field.name] = {
        [String(scalarSample(mapField.keyType, field.name, 1))]: valueSample(field, variant, depth, 1),
        [String(scalarSample(mapField.keyType, field.name, 2))]: valueSample(field, variant, depth, 2),
      };
    } else if (field.repeated) {
      message[field.name] = [valueSample(field, variant, depth, 1), valueSample(field, variant, depth, 2)];
    } else {
      message[field.name] = valueSample(field, variant, depth, 1);
    }
  }
  return message;
}

function valueSample(field: protobuf.Field, variant: number, depth: number, nth: number): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return sampleMessage(resolved, variant + nth, depth + 1);
  if (resolved instanceof protobuf.Enum) {
    const values = Object.values(resolved.values);
    return values[(variant + nth) % values.length];
  }
  return scalarSample(field.type, field.name, nth);
}

function scalarSample(kind: string, name: string, nth: number): unknown {
  switch (kind) {
    case 'double':
      return 1.5 * nth;
    case 'float':
      return 0.25 * nth;
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return -1000 * nth;
    case 'uint32':
    case 'fixed32':
      return 4_000_000_000 + nth;
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return Long.fromString(`-90071992547409${nth}`);
    case 'uint64':
    case 'fixed64':
      return Long.fromString(`1844674407370955161${nth}`, true);
    case 'bool':
      return nth % 2 === 1;
    case 'string':
      return `${name}-${nth}-✓`;
    case 'bytes':
      return Uint8Array.from([0, nth, 0x7f, 0x80, 0xff]);
    default:
      throw new Error(`no sample for scalar type ${kind}`);
  }
}
