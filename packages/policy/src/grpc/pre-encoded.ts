// Watch answers are shared by every stream of the same target: they are encoded once per state
// and written as bytes. These wrappers make a service definition's response serializer pass such
// pre-encoded answers through (anything else is encoded as usual).
import {
  createMessageCodec,
  inbound,
  InboundServerPoliciesService,
  outbound,
  OutboundPoliciesService,
  type MessageCodec,
} from '@tsmesh/core';

/** An answer already encoded as its protobuf bytes. */
export class EncodedMessage {
  constructor(readonly bytes: Buffer) {}
}

interface Serializing {
  readonly responseSerialize: (value: never) => Buffer;
}

function passEncoded<D extends Record<string, Serializing>>(definition: D): D {
  const out: Record<string, Serializing> = {};
  for (const [key, method] of Object.entries(definition)) {
    const serialize = method.responseSerialize as (value: unknown) => Buffer;
    out[key] = {
      ...method,
      responseSerialize: ((value: unknown) =>
        value instanceof EncodedMessage ? value.bytes : serialize(value)) as never,
    };
  }
  return Object.freeze(out) as D;
}

export const InboundPoliciesDefinition: typeof InboundServerPoliciesService = passEncoded(
  InboundServerPoliciesService,
);
export const OutboundPoliciesDefinition: typeof OutboundPoliciesService =
  passEncoded(OutboundPoliciesService);

export const inboundServerCodec: MessageCodec<inbound.Server, inbound.Server.$Properties> =
  createMessageCodec(inbound.Server, 'io.linkerd.proxy.inbound.Server');
export const outboundPolicyCodec: MessageCodec<outbound.OutboundPolicy, outbound.OutboundPolicy.$Properties> =
  createMessageCodec(outbound.OutboundPolicy, 'io.linkerd.proxy.outbound.OutboundPolicy');
