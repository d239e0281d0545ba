// The proxy in multicluster gateway mode (LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES set): mesh-TLS
// connections addressed to the inbound port itself (not redirected to a local app) are forwarded
// to services of this cluster through the outbound mesh stack — discovery of the name, balancing,
// mesh TLS to the target's pods — as linkerd2-proxy's gateway does:
// - opaque transport whose header names a target (`name`, `port`, optional session protocol):
//   opaque bytes, or HTTP when the header says so, to that name;
// - any other mesh-TLS connection: HTTP (detected), each request to its authority.
// Clients must be authenticated (mutual TLS); plaintext connections never get here (the inbound
// server has nowhere to send them and closes them). Names outside the suffixes and loops are
// refused: an HTTP request with 404/508 and `l5d-proxy-error`, an opaque connection by closing it.
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { FORWARDED } from '../client-address/index.js';
import { detectProtocol } from '../detect/index.js';
import { PROXY_ERRORS, ProxyError } from '../errors/index.js';
import type { ProxyMetrics } from '../metrics/index.js';
import type { Exchange } from '../outbound/logical/index.js';
import type { OutboundMesh, RequestGate } from '../outbound/index.js';
import type { TransportHeader } from '../transport-header/index.js';
import { checkGatewayLoop, forwardedElement, gatewayTarget, type GatewayTarget } from './gateway-rules.js';

export interface GatewayOptions {
  /** LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES, normalized (config.inbound.gatewaySuffixes). */
  readonly suffixes: readonly string[];
  /** The outbound mesh stack the gateway forwards through. */
  readonly mesh: OutboundMesh;
  /** This proxy's mesh identity (loop detection, Forwarded `by=`); undefined until it has one. */
  localIdentity(): string | undefined;
  readonly metrics: ProxyMetrics;
  /** How long an HTTP connection without a transport header may take to show its protocol. */
  readonly detectTimeoutMs: number;
}

/** What the inbound server hands over in gateway mode. */
export interface InboundGateway {
  /** A mesh-TLS connection to the inbound port itself, without a transport header. */
  direct(stream: TLSSocket, clientId: string | undefined): void;
  /** Opaque transport whose header names a target. */
  transportHeader(stream: TLSSocket, header: TransportHeader, rest: Buffer, clientId: string): void;
}

/** The request as it goes on: the target as authority (and Host), Forwarded appended. */
function rewritten(ex: Exchange, target: GatewayTarget, forwarded: string): Exchange {
  const prior = ex.headers[FORWARDED];
  ex.headers[FORWARDED] =
    prior === undefined ? forwarded : [...(typeof prior === 'string' ? [prior] : prior), forwarded];
  // Everything else (body, signal, respond, fail) is the original exchange's.
  return Object.create(ex, { authority: { value: target.authority, enumerable: true } }) as Exchange;
}

export function createGateway(options: GatewayOptions): InboundGateway {
  const { mesh, metrics, suffixes } = options;
  const refuseConnection = (stream: Duplex, label: string) => {
    metrics.error('inbound', 'tcp', label);
    stream.destroy();
  };
  const refuseRequest = (err: ProxyError): ProxyError => {
    metrics.error('inbound', 'http', PROXY_ERRORS[err.code].errorLabel);
    return err;
  };

  /** Per-connection gate: a fixed target (transport header) or each request's authority. */
  const gateFor =
    (localId: string, clientId: string, fixed: GatewayTarget | undefined): RequestGate =>
    (ex) => {
      const target = fixed ?? gatewayTarget(ex.authority, suffixes);
      if (ProxyError.is(target)) return refuseRequest(target);
      const loop = checkGatewayLoop(localId, clientId, ex.headers[FORWARDED]);
      if (loop) return refuseRequest(loop);
      return rewritten(ex, target, forwardedElement(localId, clientId, target));
    };

  /** Authenticated, not ourselves: the local identity to stamp, else the connection is refused. */
  const admit = (stream: Duplex, clientId: string | undefined): string | undefined => {
    const localId = options.localIdentity();
    if (clientId === undefined || localId === undefined) {
      refuseConnection(stream, ProxyErrorLabel.IdentityRequired);
      return undefined;
    }
    if (checkGatewayLoop(localId, clientId, undefined)) {
      refuseConnection(stream, ProxyErrorLabel.GatewayLoop);
      return undefined;
    }
    return localId;
  };

  return {
    direct(stream, clientId) {
      const localId = admit(stream, clientId);
      if (localId === undefined || clientId === undefined) return;
      void detectProtocol(stream, { timeoutMs: options.detectTimeoutMs }).then((d) => {
        if (d.protocol !== 'http1' && d.protocol !== 'http2') {
          // Without a transport header only HTTP names its target.
          refuseConnection(stream, ProxyErrorLabel.Unexpected);
          return;
        }
        mesh.accept(stream, d.buffered, d.protocol, undefined, gateFor(localId, clientId, undefined));
      });
    },
    transportHeader(stream, header, rest, clientId) {
      const localId = admit(stream, clientId);
      if (localId === undefined || header.name === undefined) return;
      const target = gatewayTarget(`${header.name}:${header.port}`, suffixes);
      if (ProxyError.is(target)) {
        refuseConnection(stream, ProxyErrorLabel.GatewayDomainInvalid);
        return;
      }
      if (header.protocol === undefined) {
        mesh.forwardOpaque(stream, rest, { name: target.authority });
        return;
      }
      mesh.accept(stream, rest, header.protocol, undefined, gateFor(localId, clientId, target));
    },
  };
}
