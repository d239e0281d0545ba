import { spawn, type ChildProcess } from 'node:child_process';

// Reads "add PID" / "del PID" lines; when its stdin closes — including when the Node process that
// owns the pipe dies, even by SIGKILL — it terminates the PIDs still registered. This keeps a
// crashed or killed test run from leaking etcd and kube-apiserver processes.
const SCRIPT = `
pids=""
while IFS= read -r line; do
  case "$line" in
    "add "*) pids="$pids \${line#add }" ;;
    "del "*) pids=$(printf ' %s ' $pids | sed "s/ \${line#del } / /") ;;
  esac
done
pids=$(echo $pids)
[ -z "$pids" ] && exit 0
kill -TERM $pids 2>/dev/null
i=0; while [ $i -lt 50 ] && kill -0 $pids 2>/dev/null; do sleep 0.2; i=$((i+1)); done
kill -KILL $pids 2>/dev/null
exit 0
`;

/** Kills registered processes when this Node process goes away without stopping them. */
export class Watchdog {
  readonly #child: ChildProcess;

  constructor() {
    this.#child = spawn('sh', ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'] });
    this.#child.on('error', () => {});
    this.#child.stdin?.on('error', () => {});
    // Must not keep the event loop alive on its own.
    this.#child.unref();
    (this.#child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  add(pid: number): void {
    this.#child.stdin?.write(`add ${pid}\n`);
  }

  remove(pid: number): void {
    this.#child.stdin?.write(`del ${pid}\n`);
  }

  /** Call after stopping (and removing) every process yourself. */
  close(): void {
    this.#child.stdin?.end();
  }
}
