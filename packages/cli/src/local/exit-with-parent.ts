// Processes the demo starts end themselves once their parent is gone, so a demo killed hard
// (SIGKILL) leaves no orphans behind. Opt-in through the environment, read here only.

/** Set in the environment of processes the demo starts. */
export const EXIT_WITH_PARENT_ENV = 'TSMESH_EXIT_WITH_PARENT';

/** Calls `onOrphaned` when this process's parent changes; returns a stop function. */
export function exitWithParent(onOrphaned: () => void, env: NodeJS.ProcessEnv = process.env): () => void {
  if (env[EXIT_WITH_PARENT_ENV] !== '1') return () => {};
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) onOrphaned();
  }, 500);
  timer.unref();
  return () => clearInterval(timer);
}
