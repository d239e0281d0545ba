// `tsmesh run --workload NAME --port PORT -- CMD …`: a local workload behind its own proxy.
import { CommanderError, type Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  createTextLogger,
  defaultStateDir,
  cleanupTransparentNetworks,
  exitWithParent,
  runTransparentWorkload,
  transparentModeUnavailable,
  runWorkload,
  type LogLevel,
} from '../local/index.js';
import { guarded } from './command-errors.js';

interface RunOptions {
  workload: string;
  namespace: string;
  serviceAccount?: string;
  port: string[];
  label: string[];
  state: string;
  netns?: boolean;
  iptablesMode?: string;
  logLevel: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function parsePortSpec(spec: string): { port: number; name?: string } {
  const m = /^(?:([a-z0-9-]+)=)?(\d+)$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535)
    throw new MeshError(MeshErrorCode.InvalidArgument, `invalid --port ${JSON.stringify(spec)}`, {
      hint: 'a port from 1 to 65535, optionally named: --port http=8080',
    });
  return m[1] ? { port, name: m[1] } : { port };
}

export function parseLabel(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  if (eq <= 0)
    throw new MeshError(MeshErrorCode.InvalidArgument, `invalid --label ${JSON.stringify(spec)}`, {
      hint: 'key=value',
    });
  return [spec.slice(0, eq), spec.slice(eq + 1)];
}

export function registerRunCommand(
  program: Command,
  out: (line: string) => void,
  err: (line: string) => void,
): void {
  program
    .command('run')
    .description('Run a process as a meshed workload of the local control plane, behind its own proxy')
    .requiredOption('--workload <name>', 'workload name (the pod label app=NAME)')
    .option('--namespace <ns>', 'namespace', 'default')
    .option('--service-account <sa>', 'ServiceAccount (its identity); default the workload name')
    .option('--port <[name=]port>', 'a port the app listens on at 127.0.0.1 (repeatable)', collect, [])
    .option('--label <key=value>', 'extra pod label (repeatable)', collect, [])
    .option('--state <dir>', 'state directory of `tsmesh up`', defaultStateDir())
    .option(
      '--netns',
      'transparent mode (root): its own network namespace and pod address, proxy-init iptables rules, no env hints',
    )
    .option('--iptables-mode <mode>', 'with --netns: legacy (default, as linkerd2-proxy-init) or nft')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .argument('<command...>', 'the app and its arguments (after --)')
    .action(
      guarded('tsmesh run', err, async (command: string[], opts: RunOptions) => {
        if (opts.iptablesMode !== undefined && opts.iptablesMode !== 'legacy' && opts.iptablesMode !== 'nft')
          throw new MeshError(
            MeshErrorCode.InvalidArgument,
            `invalid --iptables-mode ${JSON.stringify(opts.iptablesMode)}`,
            {
              hint: 'legacy or nft',
            },
          );
        const [cmd, ...args] = command;
        const ports = opts.port.map(parsePortSpec);
        const logger = createTextLogger(err, opts.logLevel as LogLevel, `[${opts.workload}] `);
        const controller = new AbortController();
        const onSignal = () => controller.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const stopWatching = exitWithParent(onSignal);
        try {
          const run = opts.netns
            ? (o: Parameters<typeof runWorkload>[0]) =>
                runTransparentWorkload({
                  ...o,
                  iptablesMode: opts.iptablesMode as 'legacy' | 'nft' | undefined,
                })
            : runWorkload;
          const code = await run({
            stateDir: opts.state,
            workload: opts.workload,
            namespace: opts.namespace,
            serviceAccount: opts.serviceAccount ?? opts.workload,
            ports,
            labels: Object.fromEntries(opts.label.map(parseLabel)),
            command: cmd!,
            args,
            logger,
            signal: controller.signal,
          });
          if (code !== 0) throw new CommanderError(code, 'tsmesh.run', `the app exited with ${code}`);
        } finally {
          stopWatching();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );

  // What a crashed `tsmesh run --netns` leaves (its proxy and app end with it; its namespace does
  // not): removed here, as each new transparent-mode run also does before it starts.
  program
    .command('down')
    .description('Remove what transparent-mode workloads (tsmesh run --netns) left behind (root)')
    .option('--all', 'also the namespaces of workloads still running')
    .action(
      guarded('tsmesh down', err, async (opts: { all?: boolean }) => {
        const unavailable = await transparentModeUnavailable();
        if (unavailable)
          throw new MeshError(MeshErrorCode.FailedPrecondition, unavailable, {
            hint: 'only transparent mode (tsmesh run --netns) leaves anything to remove',
          });
        const removed = await cleanupTransparentNetworks({ all: opts.all === true });
        out(removed.length === 0 ? 'nothing to remove' : `removed ${removed.join(', ')}`);
      }),
    );
}
