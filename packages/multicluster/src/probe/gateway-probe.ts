// The gateway probe of one Link: an HTTP GET of the gateway's probe endpoint (Linkerd: port 4191,
// path /ready) every period, with Linkerd's service-mirror metrics — gateway_alive (1/0),
// gateway_probe_latency_ms (histogram, Linkerd's buckets), gateway_latency (last), gateway_probes
// {probe_successful}, gateway_enabled — all labelled target_cluster_name. The gateway starts alive
// (as Linkerd's does, so mirrors do not fail fast before the first probe) and turns dead after
// failureThreshold failures in a row; each change is reported to `onChange`.
import { request } from 'node:http';
import { counterOn, gaugeOn, histogramOn, silentLogger, sleep, type Logger } from '@tsmesh/kube';
import type { Registry } from 'prom-client';
import type { ProbeSpec } from '../link/index.js';

export const PROBE_LATENCY_BUCKETS_MS = [
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000,
  30000, 40000, 50000,
];

export interface GatewayProbeMetrics {
  readonly alive: ReturnType<typeof gaugeOn<'target_cluster_name'>>;
  readonly enabled: ReturnType<typeof gaugeOn<'target_cluster_name'>>;
  readonly latency: ReturnType<typeof gaugeOn<'target_cluster_name'>>;
  readonly latencies: ReturnType<typeof histogramOn<'target_cluster_name'>>;
  readonly probes: ReturnType<typeof counterOn<'target_cluster_name' | 'probe_successful'>>;
}

export function createGatewayProbeMetrics(registry: Registry): GatewayProbeMetrics {
  const cluster = ['target_cluster_name'] as const;
  return {
    alive: gaugeOn(
      registry,
      'gateway_alive',
      'A gauge which is 1 if the gateway is alive and 0 if it is not.',
      cluster,
    ),
    enabled: gaugeOn(
      registry,
      'gateway_enabled',
      'A gauge which is 1 if the gateway is enabled, and 0 if it is not',
      cluster,
    ),
    latency: gaugeOn(
      registry,
      'gateway_latency',
      'A gauge which is the latency of the last probe to the gateway.',
      cluster,
    ),
    latencies: histogramOn(
      registry,
      'gateway_probe_latency_ms',
      'A histogram of latencies to a gateway in a target cluster.',
      cluster,
      PROBE_LATENCY_BUCKETS_MS,
    ),
    probes: counterOn(
      registry,
      'gateway_probes',
      'A counter for the number of actual performed probes to a gateway',
      ['target_cluster_name', 'probe_successful'],
    ),
  };
}

export interface GatewayProbeOptions {
  readonly clusterName: string;
  /** The address to probe (the first resolved gateway address); called before each probe. */
  readonly address: () => string | undefined;
  readonly spec: () => ProbeSpec;
  /** Whether there is a gateway to probe now (a remote-discovery-only Link has none); default true. */
  readonly enabled?: () => boolean;
  readonly registry: Registry;
  readonly logger?: Logger;
  readonly onChange?: (alive: boolean) => void;
}

/** One GET; resolves with the latency in ms, rejects with why it failed. */
export function probeOnce(address: string, spec: ProbeSpec, signal?: AbortSignal): Promise<number> {
  const started = performance.now();
  return new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: spec.port,
        path: spec.path,
        method: 'GET',
        timeout: spec.timeoutMs,
        agent: false,
        ...(signal ? { signal } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) resolve(performance.now() - started);
          else reject(new Error(`gateway returned unexpected status ${res.statusCode}`));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`problem connecting with gateway: ${err.message}`)));
    req.end();
  });
}

export class GatewayProbe {
  readonly #o: GatewayProbeOptions;
  readonly #metrics: GatewayProbeMetrics;
  readonly #logger: Logger;
  #alive = true;
  #failures = 0;

  constructor(options: GatewayProbeOptions) {
    this.#o = options;
    this.#metrics = createGatewayProbeMetrics(options.registry);
    this.#logger = options.logger ?? silentLogger;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Probes once and updates the state and metrics. */
  async probe(signal?: AbortSignal): Promise<boolean> {
    const labels = { target_cluster_name: this.#o.clusterName };
    const spec = this.#o.spec();
    const address = this.#o.address();
    try {
      if (!address) throw new Error('the gateway address did not resolve');
      const ms = await probeOnce(address, spec, signal);
      this.#failures = 0;
      this.#metrics.alive.set(labels, 1);
      this.#metrics.latency.set(labels, Math.round(ms));
      this.#metrics.latencies.observe(labels, Math.round(ms));
      this.#metrics.probes.inc({ ...labels, probe_successful: 'true' });
      this.#set(true);
    } catch (err) {
      if (signal?.aborted) return this.#alive;
      this.#failures++;
      this.#logger.warn(
        { cluster: this.#o.clusterName, address, failures: this.#failures, error: (err as Error).message },
        'gateway probe failed',
      );
      if (this.#failures >= spec.failureThreshold) {
        this.#metrics.alive.set(labels, 0);
        this.#metrics.probes.inc({ ...labels, probe_successful: 'false' });
        this.#set(false);
      }
    }
    return this.#alive;
  }

  #set(alive: boolean): void {
    if (alive === this.#alive) return;
    this.#alive = alive;
    this.#logger.info(
      { cluster: this.#o.clusterName, alive },
      alive ? 'gateway is alive' : 'gateway is dead',
    );
    this.#o.onChange?.(alive);
  }

  /** Probes every period (jittered by up to 10%) until `signal` aborts, then drops its series. */
  async run(signal: AbortSignal): Promise<void> {
    const labels = { target_cluster_name: this.#o.clusterName };
    try {
      while (!signal.aborted) {
        const period = this.#o.spec().periodMs;
        if (!(await sleep(period - Math.random() * period * 0.1, signal))) break;
        const enabled = this.#o.enabled?.() ?? true;
        this.#metrics.enabled.set(labels, enabled ? 1 : 0);
        if (enabled) await this.probe(signal);
      }
    } finally {
      for (const metric of [
        this.#metrics.alive,
        this.#metrics.enabled,
        this.#metrics.latency,
        this.#metrics.latencies,
      ]) {
        metric.remove(labels);
      }
    }
  }
}
