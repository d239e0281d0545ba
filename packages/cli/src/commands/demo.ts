import type { Command } from 'commander';

/**
 * `tsmesh demo`: the whole mesh on one machine. The local mesh (control plane, a proxy per
 * workload, the demo application and the dashboard) is built in the local-mode issue; until it
 * lands this command says so plainly instead of pretending.
 */
export function registerDemoCommand(program: Command, out: (line: string) => void): void {
  program
    .command('demo')
    .description('Run the whole mesh and a demo application on this machine (no cluster needed)')
    .action(() => {
      out(
        [
          'tsmesh demo will run, on this machine and with no cluster: the control plane (identity,',
          'destination, policy), one tsmesh-proxy beside each workload of the demo application',
          '(web, emoji, voting, vote-bot), and the viz dashboard.',
          '',
          'Not available yet: the local mesh is still being built. What works today:',
          '  npm test               builds everything and runs every test',
          '  npx testenv up --dir D starts a real kube-apiserver for experiments',
        ].join('\n'),
      );
    });
}
