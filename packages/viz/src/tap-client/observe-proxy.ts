// One proxy's tap: io.linkerd.proxy.tap.Tap/Observe on its control port (4190) over mutual TLS,
// as the tap identity, checking that the server is the pod's proxy (its identity is the TLS
// server name). Rate limiting as linkerd-viz's tap: Observe with limit = rps for a one-second
// window, and when the proxy ends the stream early (limit reached) the next window waits.
import * as grpc from '@grpc/grpc-js';
import { MeshError, MeshErrorCode, TapClient, type tap } from '@tsmesh/core';
import { sleep } from '@tsmesh/kube';

/** The tap service's own certificate and the mesh's trust anchors. */
export interface TapClientTls {
  readonly trustAnchorsPem: string;
  /** The leaf (tap identity) first, then its intermediates. */
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
}

export interface ObserveProxyOptions {
  /** host:port of the proxy's control (tap) server. */
  readonly address: string;
  /** The proxy's identity: its certificate must carry it. */
  readonly serverIdentity: string;
  readonly tls: TapClientTls;
  readonly match: tap.ObserveRequest.Match.$Properties;
  readonly extractHeaders: boolean;
  /** Requests a second from this proxy (at least 1). */
  readonly maxRps: number;
  readonly signal: AbortSignal;
  readonly onEvent: (event: tap.TapEvent) => void;
  /** The tap of this proxy failed (it is not retried). */
  readonly onError: (error: MeshError) => void;
  /** Window length; tests may shorten it. */
  readonly windowMs?: number;
}

/** Runs until the signal aborts or the proxy refuses; resolves then. */
export async function observeProxy(o: ObserveProxyOptions): Promise<void> {
  const client = new TapClient(
    o.address,
    grpc.credentials.createSsl(
      Buffer.from(o.tls.trustAnchorsPem),
      Buffer.from(o.tls.privateKeyPem),
      Buffer.from(o.tls.certificateChainPem),
    ),
    {
      'grpc.ssl_target_name_override': o.serverIdentity,
      'grpc.default_authority': o.serverIdentity,
      // The tap service dials a proxy per pod and tap; never share a connection between taps.
      'grpc.use_local_subchannel_pool': 1,
    },
  );
  const windowMs = o.windowMs ?? 1000;
  const limit = Math.max(1, Math.floor((o.maxRps * windowMs) / 1000));
  try {
    while (!o.signal.aborted) {
      const windowEnd = Date.now() + windowMs;
      const status = await new Promise<grpc.StatusObject>((resolve) => {
        const call = client.observe({
          limit,
          match: o.match,
          ...(o.extractHeaders ? { extract: { http: { headers: {} } } } : {}),
        });
        const cancel = () => call.cancel();
        o.signal.addEventListener('abort', cancel, { once: true });
        call.on('data', (e: tap.TapEvent) => o.onEvent(e));
        call.on('error', () => undefined);
        call.on('status', (s: grpc.StatusObject) => {
          o.signal.removeEventListener('abort', cancel);
          resolve(s);
        });
      });
      if (o.signal.aborted) return;
      if (status.code !== grpc.status.OK) {
        o.onError(
          new MeshError(
            status.code === grpc.status.PERMISSION_DENIED
              ? MeshErrorCode.PermissionDenied
              : MeshErrorCode.Unavailable,
            `tap of ${o.address} (${o.serverIdentity}) failed: ${grpc.status[status.code] ?? status.code} ${status.details}`,
            {
              where: o.address,
              hint:
                status.code === grpc.status.PERMISSION_DENIED
                  ? 'the proxy accepts only the identity in its LINKERD2_PROXY_TAP_SVC_NAME'
                  : 'is the pod running and its proxy ready?',
            },
          ),
        );
        return;
      }
      await sleep(windowEnd - Date.now(), o.signal);
    }
  } finally {
    client.close();
  }
}
