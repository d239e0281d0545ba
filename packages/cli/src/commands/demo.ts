// `tsmesh demo`: the whole mesh and a demo application on this machine; and the hidden
// `tsmesh demo-app NAME`, the entry of each demo workload.
import type { Command } from 'commander';
import { MeshError, MeshErrorCode, parseDurationMs } from '@tsmesh/core';
import { demoClusterManifests, runDemo, runDemoAppProcess } from '../demo/index.js';
import { VERSION } from '../version.js';
import { exitWithParent } from '../local/index.js';
import { guarded } from './command-errors.js';
import { parseControllers, untilInterrupted } from './up.js';
import { startDashboard } from './viz-dashboard.js';

export function registerDemoCommand(
  program: Command,
  out: (line: string) => void,
  err: (line: string) => void = out,
): void {
  program
    .command('demo')
    .description('Run the whole mesh and a demo application on this machine (no cluster needed)')
    .option('--duration <duration>', 'stop by itself after this long (e.g. 30s, 5m)')
    .option('--state <dir>', 'state directory (default: a temporary one, removed afterwards)')
    .option('--port <port>', 'port on 127.0.0.1 for the web front end', '8080')
    .option('--controllers <list>', 'controllers besides identity (comma list)', 'destination,policy')
    .option(
      '--kubernetes',
      'print the demo for a cluster instead (namespace emojivoto, injected; pipe to kubectl apply -f -)',
    )
    .option(
      '--image <ref>',
      'with --kubernetes: the tsmesh CLI image the workloads run',
      `ghcr.io/tsmesh/cli:${VERSION}`,
    )
    .option(
      '--image-pull-policy <policy>',
      'with --kubernetes: Always, IfNotPresent or Never',
      'IfNotPresent',
    )
    .action(
      guarded(
        'tsmesh demo',
        err,
        async (opts: {
          duration?: string;
          state?: string;
          port: string;
          controllers: string;
          kubernetes?: boolean;
          image: string;
          imagePullPolicy: string;
        }) => {
          if (opts.kubernetes) {
            const policy = opts.imagePullPolicy;
            if (policy !== 'Always' && policy !== 'IfNotPresent' && policy !== 'Never') {
              throw new MeshError(
                MeshErrorCode.InvalidArgument,
                `unknown image pull policy ${JSON.stringify(policy)}`,
                {
                  where: '--image-pull-policy',
                  hint: 'one of Always, IfNotPresent, Never',
                },
              );
            }
            out(demoClusterManifests({ image: opts.image, imagePullPolicy: policy }));
            return;
          }
          const durationMs = opts.duration ? parseDurationMs(opts.duration) : undefined;
          const controller = new AbortController();
          void untilInterrupted(controller.signal).then(() => controller.abort());
          try {
            await runDemo({
              stateDir: opts.state,
              durationMs,
              webPort: Number(opts.port),
              controllers: parseControllers(opts.controllers),
              cliEntry: process.argv[1]!,
              tty: process.stdout.isTTY === true,
              write: (text) => process.stdout.write(text),
              // On linkerd's dashboard port when it is free, any other port if not.
              dashboard: (stateDir, signal) => startDashboard({ stateDir, signal, anyPortIfTaken: true }),
              signal: controller.signal,
            });
          } finally {
            controller.abort();
          }
        },
      ),
    );

  program
    .command('demo-app', { hidden: true })
    .description('Run one demo workload (started by `tsmesh demo` through `tsmesh run`)')
    .argument('<name>', 'web, emoji, voting or vote-bot')
    .option('--tag <text>', 'ignored; lets the demo find its processes')
    .action(
      guarded('tsmesh demo-app', err, async (name: string) => {
        const stop = exitWithParent(() => process.kill(process.pid, 'SIGTERM'));
        try {
          await runDemoAppProcess(name, (line) => err(line));
        } finally {
          stop();
        }
      }),
    );
}
