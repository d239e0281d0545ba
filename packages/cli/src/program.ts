// The `tsmesh` command tree. Built by a function (no module-level state) so tests can run it
// in-process and capture its output.
import { Command } from 'commander';
import { registerAuthzCommand } from './commands/authz/index.js';
import { registerCheckCommand } from './commands/check.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDiagnosticsCommand } from './commands/diagnostics/index.js';
import { addGlobalClusterOptions } from './commands/global-options.js';
import { registerIdentityCommand } from './commands/identity.js';
import { registerInjectCommands } from './commands/inject.js';
import { registerInstallCommand } from './commands/install.js';
import { registerMulticlusterCommand } from './commands/multicluster.js';
import { registerUninstallCommand } from './commands/uninstall.js';
import { registerUpgradeCommand } from './commands/upgrade.js';
import { registerPolicyCommand } from './commands/policy.js';
import { registerProfileCommand } from './commands/profile/index.js';
import { registerRunCommand } from './commands/run.js';
import { registerUpCommand } from './commands/up.js';
import { registerVersionCommand } from './commands/version.js';
import { registerVizCommand } from './commands/viz.js';
import { registerVizDashboardCommand } from './commands/viz-dashboard.js';
import { VERSION } from './version.js';

export interface ProgramIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: ProgramIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

export function createProgram(io: ProgramIo = defaultIo): Command {
  const program = new Command('tsmesh')
    .description('tsmesh: a Linkerd-compatible service mesh for Kubernetes, written in TypeScript')
    .version(VERSION, '--version', 'print the version')
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  addGlobalClusterOptions(program);
  registerVersionCommand(program, io.out);
  registerDemoCommand(program, io.out, io.err);
  registerIdentityCommand(program, io.out, io.err);
  registerPolicyCommand(program, io.out, io.err);
  registerInjectCommands(program, io.out, io.err);
  registerInstallCommand(program, io.out, io.err);
  registerUpgradeCommand(program, io.out, io.err);
  registerUninstallCommand(program, io.out, io.err);
  registerCheckCommand(program, io.out, io.err);
  registerUpCommand(program, io.out, io.err);
  registerRunCommand(program, io.out, io.err);
  registerVizCommand(program, io.out, io.err);
  registerMulticlusterCommand(program, io.out, io.err);
  registerVizDashboardCommand(program, io.out, io.err);
  registerDiagnosticsCommand(program, io.out, io.err);
  registerProfileCommand(program, io);
  registerAuthzCommand(program, io.out, io.err);
  registerCompletionCommand(program, io.out, io.err);
  return program;
}
