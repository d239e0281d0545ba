import { execFile } from 'node:child_process';
import { TestEnvError } from './test-env-error.js';

/** Runs the real `openssl` (override the command with $OPENSSL). */
export function openssl(args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  const command = process.env.OPENSSL ?? 'openssl';
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        reject(
          new TestEnvError(
            'PKI_FAILED',
            `${command} ${args.join(' ')} failed: ${stderr.trim() || err.message}`,
            {
              cause: err,
            },
          ),
        );
      } else {
        resolve(stdout);
      }
    });
  });
}
