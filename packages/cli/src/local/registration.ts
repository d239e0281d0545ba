// A workload instance's registration with the local control plane (POST /v1/workloads): the
// answer gives its Pod, pod IP and token, and the held-open request keeps the Pod alive. When the
// control plane goes away (restart), the workload registers again with the same name and address.
import { setMaxListeners } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import { readControlPlaneInfo, statePaths, type ControlPlaneInfo, type StatePaths } from './state-dir.js';

export interface Registration {
  readonly pod: KubeObject;
  readonly podIP: string;
  readonly identity: string;
  readonly token: string;
  readonly trustAnchorsPem: string;
  /** Ends (resolves) when the control plane drops the registration. */
  readonly lost: Promise<void>;
  release(): void;
}

export function register(
  info: ControlPlaneInfo,
  body: Record<string, unknown>,
  signal: AbortSignal,
): Promise<Registration> {
  return new Promise((resolve, reject) => {
    const url = new URL('/v1/workloads', info.api);
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, signal });
    req.on('error', (err) =>
      reject(
        new MeshError(MeshErrorCode.Unavailable, `cannot reach the local control plane: ${err.message}`, {
          where: info.api,
          hint: 'is `tsmesh up` running with the same --state?',
          cause: err,
        }),
      ),
    );
    req.on('response', (res: IncomingMessage) => {
      let buffered = '';
      let answered = false;
      const lost = new Promise<void>((done) => res.on('close', () => done()));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (answered) return;
        buffered += chunk;
        const newline = buffered.indexOf('\n');
        if (newline < 0) return;
        answered = true;
        const line = buffered.slice(0, newline);
        if (res.statusCode !== 200) {
          reject(new MeshError(MeshErrorCode.InvalidArgument, `registration refused: ${line}`));
          return;
        }
        const answer = JSON.parse(line) as Omit<Registration, 'lost' | 'release'>;
        resolve({ ...answer, lost, release: () => req.destroy() });
      });
      res.on('end', () => {
        if (!answered)
          reject(new MeshError(MeshErrorCode.Unavailable, 'registration ended without an answer'));
      });
    });
    req.end(JSON.stringify(body));
  });
}

/**
 * Registers again whenever the control plane drops the registration (every second until it is
 * back), until the signal aborts. Resolves once stopped.
 */
export async function keepRegistered(o: {
  readonly paths: StatePaths;
  readonly body: Record<string, unknown>;
  readonly first: Registration;
  readonly signal: AbortSignal;
  onRegistered(registration: Registration): void;
}): Promise<void> {
  const { signal } = o;
  let current = o.first;
  while (!signal.aborted) {
    await Promise.race([
      current.lost,
      new Promise((r) => signal.addEventListener('abort', r, { once: true })),
    ]);
    while (!signal.aborted) {
      await new Promise((r) => setTimeout(r, 1000).unref());
      if (signal.aborted) break;
      try {
        current = await register(readControlPlaneInfo(o.paths), o.body, signal);
        o.onRegistered(current);
        break;
      } catch {
        // not back yet
      }
    }
  }
}

/** What a workload runner registers (RunWorkloadOptions' registration fields). */
export interface RegistrationRequest {
  readonly stateDir: string;
  readonly workload: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ports: readonly { readonly port: number; readonly name?: string }[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly network?: 'loopback' | 'netns';
  readonly signal?: AbortSignal;
}

/** A runner's registration: its abort controller (linked to the caller's signal), the first answer, and upkeep. */
export interface RegistrationSession {
  /** Every watch and stream of the runner listens on its signal. */
  readonly controller: AbortController;
  readonly paths: StatePaths;
  readonly info: ControlPlaneInfo;
  readonly first: Registration;
  readonly podName: string;
  readonly podIP: string;
  /** Registers again (same name and address) whenever the control plane drops it, until aborted. */
  keep(onRegistered: (registration: Registration) => void): Promise<void>;
  /** Unlinks the caller's signal. */
  detach(): void;
}

export async function openRegistration(request: RegistrationRequest): Promise<RegistrationSession> {
  const paths = statePaths(request.stateDir);
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const onAbort = () => controller.abort();
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const detach = () => request.signal?.removeEventListener('abort', onAbort);
  try {
    const info = readControlPlaneInfo(paths);
    const body = {
      workload: request.workload,
      namespace: request.namespace,
      serviceAccount: request.serviceAccount,
      ports: request.ports,
      labels: request.labels,
      ...(request.network ? { network: request.network } : {}),
    };
    const first = await register(info, body, controller.signal);
    const podName = first.pod.metadata?.name ?? request.workload;
    const podIP = first.podIP;
    return {
      controller,
      paths,
      info,
      first,
      podName,
      podIP,
      keep: (onRegistered) =>
        keepRegistered({
          paths,
          body: { ...body, podIP, podName },
          first,
          signal: controller.signal,
          onRegistered,
        }),
      detach,
    };
  } catch (err) {
    detach();
    throw err;
  }
}
