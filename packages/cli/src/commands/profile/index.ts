// `tsmesh profile (--template | --open-api FILE | --proto FILE) SERVICE`: a ServiceProfile for a
// Service, as linkerd prints it, for `kubectl apply -f -`. FILE may be - for standard input.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { guarded } from '../command-errors.js';
import { globalClusterFlags } from '../global-options.js';
import { openApiRoutes } from './openapi-routes.js';
import { profileTemplate } from './profile-template.js';
import { protoRoutes } from './proto-routes.js';
import {
  checkProfileTarget,
  formatServiceProfile,
  serviceProfile,
  type ProfileTarget,
} from './service-profile.js';

export { openApiRoutes, pathToRegex } from './openapi-routes.js';
export { protoRoutes } from './proto-routes.js';
export { profileTemplate } from './profile-template.js';
export {
  formatServiceProfile,
  serviceProfile,
  type RouteSpec,
  type ServiceProfile,
} from './service-profile.js';

interface ProfileFlags {
  template?: boolean;
  openApi?: string;
  proto?: string;
  clusterDomain: string;
}

export interface ProfileIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Standard input, for FILE = - (tests pass text). */
  readonly readStdin?: () => string;
}

function readInput(file: string, flag: string, io: ProfileIo): string {
  try {
    return file === '-' ? (io.readStdin ?? (() => readFileSync(0, 'utf8')))() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `cannot read ${file}: ${(err as Error).message}`, {
      where: flag,
      hint: 'pass the path of a readable file, or - for standard input',
    });
  }
}

/** The profile text for the flags (exactly one of --template, --open-api, --proto). */
export function renderProfile(flags: ProfileFlags, target: ProfileTarget, io: ProfileIo): string {
  const chosen = [flags.template, flags.openApi, flags.proto].filter((x) => x !== undefined && x !== false);
  if (chosen.length !== 1) {
    throw new MeshError(
      MeshErrorCode.InvalidArgument,
      'give exactly one of --template, --open-api or --proto',
      {
        where: 'flags',
        hint: 'e.g. tsmesh profile -n emojivoto --open-api web.swagger web-svc',
      },
    );
  }
  checkProfileTarget(target);
  if (flags.template) return profileTemplate(target);
  if (flags.openApi !== undefined) {
    const file = flags.openApi;
    return formatServiceProfile(
      serviceProfile(target, openApiRoutes(readInput(file, '--open-api', io), file)),
    );
  }
  const file = flags.proto!;
  return formatServiceProfile(serviceProfile(target, protoRoutes(readInput(file, '--proto', io), file)));
}

export function registerProfileCommand(program: Command, io: ProfileIo): void {
  program
    .command('profile')
    .description(
      'Print a ServiceProfile for a Service (a template, or routes from an OpenAPI or .proto file)',
    )
    .argument('<service>', 'name of the Service')
    .option('--template', 'a commented template to edit')
    .option('--open-api <file>', 'routes from this OpenAPI (Swagger) file, - for standard input')
    .option('--proto <file>', 'routes from the gRPC services of this .proto file, - for standard input')
    .option('--cluster-domain <domain>', 'DNS suffix of Services', 'cluster.local')
    .addHelpText(
      'after',
      '\nExamples:\n  tsmesh profile -n emojivoto --template web-svc > web-svc-profile.yaml\n' +
        '  tsmesh profile -n emojivoto --open-api web-svc.swagger web-svc | kubectl apply -f -\n' +
        '  tsmesh profile -n emojivoto --proto Voting.proto voting-svc | kubectl apply -f -\n',
    )
    .action(
      guarded('profile', io.err, (service: string, flags: ProfileFlags, cmd: Command) => {
        // The namespace is -n or `default`, as linkerd: no kubeconfig is read.
        const namespace = globalClusterFlags(cmd).namespace ?? 'default';
        io.out(renderProfile(flags, { service, namespace, clusterDomain: flags.clusterDomain }, io));
      }),
    );
}
