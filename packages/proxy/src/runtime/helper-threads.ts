// The proxy's helper threads run at a lower priority than the thread that serves requests.
//
// A node process has one thread running JavaScript and helpers beside it: V8's platform workers
// (optimizing compilation, concurrent marking, parallel scavenges) and libuv's pool (file system,
// DNS lookups). A sidecar is usually held to about one core; when a helper takes that core, the
// main thread waits for it. TurboFan compiles a function in 1-6 ms on a worker, and a proxy keeps
// recompiling as traffic changes (new header shapes, a deoptimization), so at a steady 1,000
// requests/s a benchmark pair pinned to one core each had one burst of requests in a hundred held
// 2-4 ms behind a compile (perf sched, bench/README "Proxy pair", session 13). At a higher nice
// value the helpers still get every idle moment of the core, but a request preempts them.
//
// Linux only: there each thread has its own nice value, and setpriority(PRIO_PROCESS, tid) sets a
// thread's. Raising a nice value needs no privilege. Threads started later (libuv's pool starts on
// first use) are found by scanning again now and then.
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

/** How often /proc/self/task is read again for threads started since. */
const RESCAN_MS = 10_000;

export interface HelperThreadPriorityOptions {
  /** Told once of a thread whose priority could not be set (the proxy goes on). */
  readonly onError?: (err: Error) => void;
  /** The process's threads (default: /proc/self/task); tests give their own. */
  readonly listThreads?: () => number[];
  readonly rescanMs?: number;
}

/**
 * Gives every thread of the process but the main one the nice value `nice` (1 to 19; 0 does
 * nothing), now and every few seconds for threads started later. Only from the main thread of a
 * Linux process. Returns what stops the rescans.
 */
export function lowerHelperThreadPriority(
  nice: number,
  options: HelperThreadPriorityOptions = {},
): () => void {
  if (nice === 0 || process.platform !== 'linux' || !isMainThread) return () => undefined;
  if (!Number.isInteger(nice) || nice < 1 || nice > 19) {
    throw new RangeError(`helper thread nice value ${nice} is not an integer from 0 to 19`);
  }
  const listThreads = options.listThreads ?? threadsOfThisProcess;
  let reported = false;
  const report = (err: Error) => {
    if (reported) return;
    reported = true;
    options.onError?.(err);
  };
  const done = new Set<number>();
  const scan = () => {
    let tids: number[];
    try {
      tids = listThreads();
    } catch (err) {
      report(err as Error);
      return;
    }
    for (const tid of tids) {
      if (tid === process.pid || done.has(tid)) continue;
      try {
        // Never raises a priority: a thread already nicer than asked (e.g. the whole process was
        // started under nice) keeps its value, and lowering one would need CAP_SYS_NICE.
        if (getPriority(tid) < nice) setPriority(tid, nice);
        done.add(tid);
      } catch (err) {
        // ESRCH: the thread ended between the listing and now (node's SystemError carries the
        // errno's name in `info.code`).
        const e = err as NodeJS.ErrnoException & { info?: { code?: string } };
        if ((e.info?.code ?? e.code) !== 'ESRCH') report(e);
      }
    }
    // Forget threads that ended, so a new thread reusing the id is seen again.
    if (done.size > tids.length) {
      const alive = new Set(tids);
      for (const tid of done) if (!alive.has(tid)) done.delete(tid);
    }
  };
  scan();
  const timer = setInterval(scan, options.rescanMs ?? RESCAN_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function threadsOfThisProcess(): number[] {
  return readdirSync('/proc/self/task').map(Number);
}
