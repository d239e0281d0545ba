/** The closed set of reasons a test environment can fail. */
export type TestEnvErrorCode =
  /** The build script failed (no Go toolchain, module proxy unreachable, compile error, …). */
  | 'BUILD_FAILED'
  /** openssl failed while generating the per-run PKI. */
  | 'PKI_FAILED'
  /** A control-plane process exited during startup. */
  | 'PROCESS_EXITED'
  /** A control-plane process did not become ready in time. */
  | 'START_TIMEOUT'
  /** The caller's AbortSignal fired. */
  | 'ABORTED'
  /** The state file in the environment directory is missing or unreadable. */
  | 'STATE_INVALID'
  /** Invalid options or command-line arguments. */
  | 'INVALID_ARGUMENT'
  /** The host cannot run a cluster node (not root, Debian packages missing). */
  | 'HOST_UNSUPPORTED';

const brand = Symbol.for('@tsmesh/testenv/TestEnvError');

/**
 * The one error class of this package. `code` is stable; `message` says what failed and how to
 * look further (usually a log file path). The brand makes {@link isTestEnvError} work across
 * duplicate installs, where `instanceof` would not.
 */
export class TestEnvError extends Error {
  override readonly name = 'TestEnvError';
  readonly code: TestEnvErrorCode;
  readonly [brand] = true;

  constructor(code: TestEnvErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isTestEnvError(value: unknown): value is TestEnvError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
