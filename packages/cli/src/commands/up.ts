// `tsmesh up -f DIR [--state DIR]`: the local control plane in the foreground until Ctrl-C.
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { createTextLogger, defaultStateDir, startLocalControlPlane, type LogLevel } from '../local/index.js';
import { guarded } from './command-errors.js';

/** Resolves on the first SIGINT or SIGTERM (listeners removed afterwards). */
export function untilInterrupted(signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    const onAbort = () => done('stopped');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `destination,policy` → the controllers to run besides identity; throws on an unknown name. */
export function parseControllers(list: string): ('destination' | 'policy')[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names)
    if (name !== 'destination' && name !== 'policy')
      throw new MeshError(MeshErrorCode.InvalidArgument, `unknown controller ${JSON.stringify(name)}`, {
        where: '--controllers',
        hint: 'a comma list of destination and policy (identity always runs); empty for identity only',
      });
  return names as ('destination' | 'policy')[];
}

export function registerUpCommand(
  program: Command,
  out: (line: string) => void,
  err: (line: string) => void,
): void {
  program
    .command('up')
    .description(
      'Run the control plane (identity, destination, policy) on this machine over a directory of manifests',
    )
    .requiredOption('-f, --manifests <dir>', 'directory of Kubernetes-style YAML (watched; edits apply live)')
    .option('--state <dir>', 'state directory (trust anchor, issuer, control-plane.json)', defaultStateDir())
    .option('--admin-port <port>', 'admin server port on 127.0.0.1 (/metrics, /ready)', '0')
    .option('--controllers <list>', 'controllers besides identity (comma list)', 'destination,policy')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(
      guarded(
        'tsmesh up',
        err,
        async (opts: {
          manifests: string;
          state: string;
          adminPort: string;
          controllers: string;
          logLevel: string;
        }) => {
          const logger = createTextLogger(err, opts.logLevel as LogLevel);
          const plane = await startLocalControlPlane({
            manifestDir: opts.manifests,
            stateDir: opts.state,
            logger,
            adminPort: Number(opts.adminPort),
            controllers: parseControllers(opts.controllers),
            onManifestError: (e) =>
              err(
                `manifest problem: ${e.describe()}${e.field ? ` (field ${e.field})` : ''}; the rest keeps serving`,
              ),
          });
          out(
            [
              `tsmesh control plane running (${plane.controllers.join(', ')}) over ${plane.info.manifestDir}`,
              `  identity     ${plane.info.identity.addr}`,
              ...(plane.info.destination ? [`  destination  ${plane.info.destination.addr}`] : []),
              ...(plane.info.policy ? [`  policy       ${plane.info.policy.addr}`] : []),
              `  local API    ${plane.info.api}`,
              ...(plane.adminPort ? [`  admin        http://127.0.0.1:${plane.adminPort}/metrics`] : []),
              `  state        ${plane.paths.root} (control-plane.json)`,
              'Start workloads with `tsmesh run --workload NAME --port PORT -- CMD`; Ctrl-C stops.',
            ].join('\n'),
          );
          const why = await untilInterrupted();
          out(`${why}: stopping the control plane`);
          await plane.close();
        },
      ),
    );
}
