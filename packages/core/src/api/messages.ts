// The message types of the Linkerd proxy API, one namespace per protobuf package.
//
// Each namespace holds the generated classes (encode/decode/create/fromObject/toObject) and, as
// types, their `$Properties` (plain objects to send) and `$Shape` (oneofs narrowed). Field names
// are the camelCase of the .proto names (`metric_labels` → `metricLabels`); 64-bit integers decode
// as `Long`. `transportHeader` is `transport.l5d.io`, the header of Linkerd's proxy-to-proxy opaque
// transport; `wellKnown` holds the google.protobuf types the API uses (Duration, Timestamp).
export {
  destination,
  grpcRoute,
  httpRoute,
  httpTypes,
  identity,
  inbound,
  meta,
  net,
  opaqueRoute,
  outbound,
  tap,
  tlsRoute,
  transportHeader,
  wellKnown,
} from './generated/namespaces.js';
