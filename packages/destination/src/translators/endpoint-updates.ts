// One Get stream's translator: from successive endpoint views to Destination.Update messages.
// It remembers what the client was sent and sends only the difference — Add for new or changed
// endpoints, Remove for gone ones, NoEndpoints when the set becomes empty — so a client that was
// too slow to see intermediate views still converges on the latest one (latest-value semantics).
import type { destination } from '@tsmesh/core';
import type { EndpointAddress } from '../domain/index.js';
import { toTcpAddress } from './net-address.js';
import { toWeightedAddr, type EndpointTranslation } from './weighted-addr.js';

/** What a Get stream follows: the current endpoints of one destination. */
export interface EndpointView {
  /** False when the Service does not exist (NoEndpoints{exists:false}). */
  readonly exists: boolean;
  /** By `addressKey(ip, port)`. Address objects are reused while unchanged. */
  readonly addresses: ReadonlyMap<string, EndpointAddress>;
  /** WeightedAddrSet.metric_labels (namespace, service). */
  readonly labels: Readonly<Record<string, string>>;
}

type WeightedAddr = destination.WeightedAddr.$Properties;

// Shared by every stream that sees the same address object: fan-out translates once per zone.
const translated = new WeakMap<EndpointAddress, Map<string, WeightedAddr | null>>();
const fingerprints = new WeakMap<EndpointAddress, string>();

function translate(address: EndpointAddress, t: EndpointTranslation, zone: string | undefined) {
  let byZone = translated.get(address);
  if (!byZone) translated.set(address, (byZone = new Map()));
  const key = zone ?? '';
  let wa = byZone.get(key);
  if (wa === undefined) {
    wa = toWeightedAddr(address, t, zone) ?? null;
    byZone.set(key, wa);
  }
  return wa;
}

/** A stable string of everything the translation depends on. */
export function fingerprintOf(address: EndpointAddress): string {
  let f = fingerprints.get(address);
  if (f === undefined) {
    f = JSON.stringify(address);
    fingerprints.set(address, f);
  }
  return f;
}

export class EndpointUpdates {
  readonly #t: EndpointTranslation;
  readonly #zone: string | undefined;
  readonly #sent = new Map<string, EndpointAddress>();
  #first = true;
  #exists: boolean | undefined;

  constructor(translation: EndpointTranslation, clientZone: string | undefined) {
    this.#t = translation;
    this.#zone = clientZone;
  }

  /** The updates that take the client from what it was sent to `view`. */
  next(view: EndpointView): destination.Update.$Properties[] {
    const out: destination.Update.$Properties[] = [];
    const removed: string[] = [];
    for (const key of this.#sent.keys()) {
      if (!view.addresses.has(key)) removed.push(key);
    }
    const added: WeightedAddr[] = [];
    for (const [key, address] of view.addresses) {
      const before = this.#sent.get(key);
      if (before === address || (before && fingerprintOf(before) === fingerprintOf(address))) {
        this.#sent.set(key, address);
        continue;
      }
      const wa = translate(address, this.#t, this.#zone);
      if (wa) added.push(wa);
      this.#sent.set(key, address);
    }
    for (const key of removed) this.#sent.delete(key);

    if (view.addresses.size === 0) {
      // Empty: one NoEndpoints says it all (Linkerd: "removing the last endpoint ≡ no_endpoints").
      if (this.#first || removed.length > 0 || this.#exists !== view.exists) {
        out.push({ noEndpoints: { exists: view.exists } });
      }
    } else {
      if (removed.length > 0) {
        const addrs = removed.map((key) => toTcpAddress(...splitKey(key))).filter((a) => a !== undefined);
        out.push({ remove: { addrs } });
      }
      if (added.length > 0) out.push({ add: { addrs: added, metricLabels: { ...view.labels } } });
    }
    this.#first = false;
    this.#exists = view.exists;
    return out;
  }
}

function splitKey(key: string): [string, number] {
  const colon = key.lastIndexOf(':');
  const host = key.slice(0, colon);
  return [host.startsWith('[') ? host.slice(1, -1) : host, Number(key.slice(colon + 1))];
}
