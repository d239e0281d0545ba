// `tsmesh upgrade`: the control plane re-rendered at this CLI's version, keeping the installed
// values, trust anchors, issuer and webhook certificates (read from the cluster, or from the
// manifests of the previous install with --from-manifests); flags apply on top as for install.
// `tsmesh upgrade --crds` prints this version's CRDs first, as `linkerd upgrade --crds` does.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { connectKube, type KubeConnectionFlags } from '../check/index.js';
import {
  installedValuesFromCluster,
  installedValuesFromManifests,
  renderControlPlane,
  resolveInstallValues,
  type InstallFlags,
  type Values,
} from '../install/index.js';
import { guarded } from './command-errors.js';
import { addCrdOptions, addValuesOptions, formatOutput, renderCrds, type CrdFlags } from './install.js';

interface UpgradeFlags extends InstallFlags, KubeConnectionFlags, CrdFlags {
  crds?: boolean;
  fromManifests?: string;
  output?: string;
}

export function registerUpgradeCommand(
  program: Command,
  out: (text: string) => void,
  err: (text: string) => void,
): void {
  const upgrade = program
    .command('upgrade')
    .description(
      'Print the control plane at this version, keeping installed values and certificates (--crds: the CRDs, to apply first)',
    )
    .option('--crds', "print this version's CustomResourceDefinitions only (apply them first)");
  addCrdOptions(upgrade)
    .option('--from-manifests <file>', 'read the installed state from these manifests instead of the cluster')
    .option('--kubeconfig <file>', 'kubeconfig (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context');
  addValuesOptions(upgrade).action(
    guarded('upgrade', err, async (flags: UpgradeFlags, command: Command) => {
      // As `linkerd upgrade --crds`: the CRDs of this version, decided as install --crds decides
      // (the Gateway API CRDs kept when tsmesh installed them, never taken over otherwise).
      if (flags.crds) {
        out(await renderCrds(flags, command));
        return;
      }
      const namespace = flags.controllerNamespace ?? 'linkerd';
      let installed: Values;
      if (flags.fromManifests) {
        let text: string;
        try {
          text = readFileSync(flags.fromManifests, 'utf8');
        } catch (e) {
          throw new MeshError(
            MeshErrorCode.InvalidArgument,
            `cannot read ${flags.fromManifests}: ${(e as Error).message}`,
            {
              where: '--from-manifests',
            },
          );
        }
        installed = installedValuesFromManifests(text, flags.fromManifests);
      } else {
        const client = connectKube(flags);
        try {
          installed = await installedValuesFromCluster(client, namespace);
        } finally {
          client.close();
        }
      }
      // New anchors or issuer from files replace the installed ones.
      if (flags.identityTrustAnchorsFile) delete installed.identityTrustAnchorsPEM;
      if (flags.identityIssuerCertificateFile || flags.identityIssuerKeyFile) {
        const identity = installed.identity as { issuer?: { tls?: unknown } } | undefined;
        if (identity?.issuer) delete identity.issuer.tls;
      }
      const values = resolveInstallValues(flags, installed);
      out(formatOutput(renderControlPlane(values, { namespace }), flags.output));
    }),
  );
}
