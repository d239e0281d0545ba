import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestEnvError } from './test-env-error.js';

/** What `D/testenv.json` records, so that `testenv down` can stop exactly what `up` started. */
export interface TestEnvState {
  readonly version: 1;
  readonly dir: string;
  /** Whether the directory was created by us (then `down` removes it entirely). */
  readonly createdDir: boolean;
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly pids: { etcd?: number; kubeApiserver?: number; kubeControllerManager?: number };
  readonly ports: { etcdClient?: number; etcdPeer?: number; apiserver?: number; controllerManager?: number };
  readonly versions?: { kubernetes: string; etcd: string };
  readonly startedAt: string;
}

export const STATE_FILE = 'testenv.json';

export async function writeState(state: TestEnvState): Promise<void> {
  const path = join(state.dir, STATE_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

export function readState(dir: string): Promise<TestEnvState | undefined> {
  return readStateFile(
    join(dir, STATE_FILE),
    'testenv state file',
    (s: TestEnvState) => s.version === 1 && typeof s.pids === 'object',
  );
}

/**
 * Reads a JSON state file: undefined if it does not exist, STATE_INVALID if it cannot be read or
 * `isValid` rejects it (`kind` names it in the message).
 */
export async function readStateFile<T>(
  path: string,
  kind: string,
  isValid: (state: T) => boolean,
): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TestEnvError('STATE_INVALID', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let state: T;
  try {
    state = JSON.parse(text) as T;
  } catch (err) {
    throw new TestEnvError('STATE_INVALID', `${path} is not a ${kind}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!isValid(state)) throw new TestEnvError('STATE_INVALID', `${path} is not a ${kind}: unknown format`);
  return state;
}
