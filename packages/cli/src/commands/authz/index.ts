// `tsmesh authz [-n NS] RESOURCE`: the authorizations that apply to a workload's pods, as linkerd's
// table (ROUTE SERVER AUTHORIZATION_POLICY SERVER_AUTHORIZATION) or -o json.
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { formatTable } from '@tsmesh/viz';
import { guarded } from '../command-errors.js';
import { parseWorkloadRef, podsOf, withClusterSession } from '../diagnostics/index.js';
import { checkOutput } from '../output-format.js';
import { globalClusterFlags } from '../global-options.js';
import { authorizationsFor, type AuthorizationRow } from './authorizations.js';

export { authorizationRows, authorizationsFor, type AuthorizationRow } from './authorizations.js';

export function formatAuthorizations(rows: readonly AuthorizationRow[], output: 'table' | 'json'): string {
  if (output === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  const header = ['ROUTE', 'SERVER', 'AUTHORIZATION_POLICY', 'SERVER_AUTHORIZATION'];
  const cells = rows.map((r) => [r.route, r.server, r.authorizationPolicy, r.serverAuthorization]);
  return `${formatTable(header, cells, header.length)}\n`;
}

export function registerAuthzCommand(
  program: Command,
  out: (t: string) => void,
  err: (t: string) => void,
): void {
  program
    .command('authz')
    .description(
      'List the authorizations that apply to a workload (Servers, AuthorizationPolicies, ServerAuthorizations, routes)',
    )
    .argument('<resource...>', 'TYPE/NAME or TYPE NAME, e.g. deploy/web, po/web-0')
    .option('-o, --output <format>', 'table or json', 'table')
    .addHelpText('after', '\nExamples:\n  tsmesh authz -n emojivoto deploy/web\n')
    .action(
      guarded('authz', err, async (resource: string[], flags: { output: string }, cmd: Command) => {
        const output = checkOutput(flags.output, ['table', 'json'] as const);
        if (resource.length > 2) {
          throw new MeshError(MeshErrorCode.InvalidArgument, 'one resource at a time', {
            where: 'RESOURCE',
            hint: 'e.g. deploy/web',
          });
        }
        const ref = parseWorkloadRef(resource);
        const rows = await withClusterSession(globalClusterFlags(cmd), async (s) =>
          authorizationsFor(s.client, s.namespace, await podsOf(s.client, s.namespace, ref)),
        );
        out(formatAuthorizations(rows, output));
      }),
    );
}
