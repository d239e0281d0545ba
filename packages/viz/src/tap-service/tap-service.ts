// The tap service: for one tap request, find the matching tappable pods (Kubernetes API or the
// local control plane's pod list), open Observe on each proxy (the max rps shared evenly, at least
// one a second each, as linkerd-viz's tap), hydrate each event's addresses with what the pod list
// says about them, keep those going to `to`, and hand them to the caller as one stream.
import { DefaultPort, MeshError, MeshErrorCode, type tap } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import { observeProxy, type TapClientTls } from '../tap-client/index.js';
import { toTapEventJson, type TapEventJson } from './tap-event-json.js';
import { observeMatch, type TapQuery } from './tap-query.js';
import {
  addressLabelsIndex,
  labelsInTarget,
  noPodsError,
  selectTapPods,
  type IdentityOptions,
  type TapPod,
} from './tap-targets.js';

export type TapStreamItem =
  | { readonly kind: 'event'; readonly event: TapEventJson }
  | { readonly kind: 'error'; readonly error: MeshError };

export interface TapServiceOptions extends IdentityOptions {
  /** The pods of the mesh (all namespaces), fresh for each tap. */
  readonly listPods: (signal: AbortSignal) => Promise<readonly KubeObject[]>;
  /** The tap identity's certificate (or a function giving the current one). */
  readonly tls: TapClientTls | (() => TapClientTls);
  /** The proxies' control port (4190). */
  readonly tapPort?: number;
  /** Events queued for a slow consumer before newer ones are dropped. */
  readonly maxQueuedEvents?: number;
  /** Rate window (tests). */
  readonly windowMs?: number;
}

export interface TapService {
  /**
   * Taps the pods the query selects until the signal aborts. Throws (before streaming) a MeshError
   * NotFound when no pod can be tapped.
   */
  tap(query: TapQuery, signal: AbortSignal): Promise<AsyncIterable<TapStreamItem>>;
  /** The pods a query would tap (for messages and tests). */
  targets(query: TapQuery, signal: AbortSignal): Promise<readonly TapPod[]>;
}

/** A bounded queue with one async consumer. */
function createQueue<T>(max: number) {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    push(item: T) {
      if (ended || items.length >= max) return;
      items.push(item);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *drain(): AsyncGenerator<T> {
      for (;;) {
        while (items.length > 0) yield items.shift() as T;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
}

function matchesTo(e: TapEventJson, q: TapQuery): boolean {
  if (!q.to) return true;
  if (q.to.type === 'service' && q.to.name) {
    const authority = e.requestInitEvent?.authority ?? '';
    if (authority.startsWith(`${q.to.name}.${q.to.namespace}.svc`)) return true;
  }
  return labelsInTarget(e.destination.metadata, q.to);
}

/**
 * The tapped pod is the server of its inbound events and the client of its outbound ones: name it
 * so even when the proxy reports a local address (the app's forward address, a loopback source).
 */
function withTappedPod(e: TapEventJson, pod: TapPod): TapEventJson {
  const side =
    e.proxyDirection === 'INBOUND' ? 'destination' : e.proxyDirection === 'OUTBOUND' ? 'source' : undefined;
  if (!side) return e;
  const { job: _job, control_plane_ns: _cp, ...labels } = pod.labels;
  return { ...e, [side]: { ...e[side], metadata: { ...labels, ...e[side].metadata } } };
}

export function createTapService(o: TapServiceOptions): TapService {
  const tapPort = o.tapPort ?? DefaultPort.Control;
  const tlsNow = () => (typeof o.tls === 'function' ? o.tls() : o.tls);

  const targets = async (query: TapQuery, signal: AbortSignal) => {
    const pods = await o.listPods(signal);
    return { pods, selection: selectTapPods(pods, query.resource, o) };
  };

  return {
    async targets(query, signal) {
      return (await targets(query, signal)).selection.pods;
    },
    async tap(query, signal) {
      const { pods, selection } = await targets(query, signal);
      if (selection.pods.length === 0) throw noPodsError(query.resource, selection);
      const labelsOf = addressLabelsIndex(pods);
      const queue = createQueue<TapStreamItem>(o.maxQueuedEvents ?? 10_000);
      const match = observeMatch(query);
      const rpsPerPod = Math.max(1, query.maxRps / selection.pods.length);
      // The request (request init) of each stream decides whether its response events pass `to`.
      const admitted = new Set<string>();
      const tls = tlsNow();
      const onEvent = (pod: TapPod) => (raw: tap.TapEvent) => {
        const event = withTappedPod(toTapEventJson(raw, labelsOf), pod);
        const id = (event.requestInitEvent ?? event.responseInitEvent ?? event.responseEndEvent)?.id;
        const key = `${pod.ip}/${id?.base}:${id?.stream}`;
        if (event.requestInitEvent) {
          if (!matchesTo(event, query)) return;
          // Requests whose end never comes (a proxy went away) must not pile up.
          if (admitted.size >= 10_000) admitted.delete(admitted.values().next().value as string);
          admitted.add(key);
        } else if (!admitted.has(key)) return;
        if (event.responseEndEvent) admitted.delete(key);
        queue.push({ kind: 'event', event });
      };
      const host = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);
      const runs = selection.pods.map((pod) =>
        observeProxy({
          address: `${host(pod.ip)}:${tapPort}`,
          serverIdentity: pod.identity,
          tls,
          match,
          extractHeaders: query.extract,
          maxRps: rpsPerPod,
          signal,
          onEvent: onEvent(pod),
          onError: (error) => queue.push({ kind: 'error', error }),
          ...(o.windowMs ? { windowMs: o.windowMs } : {}),
        }).catch((err: unknown) =>
          queue.push({
            kind: 'error',
            error:
              err instanceof MeshError
                ? err
                : new MeshError(MeshErrorCode.Unavailable, String(err), { where: pod.name }),
          }),
        ),
      );
      void Promise.all(runs).then(() => queue.end());
      signal.addEventListener('abort', () => queue.end(), { once: true });
      return queue.drain();
    },
  };
}
