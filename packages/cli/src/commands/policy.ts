// `tsmesh policy check`: would this client reach this workload port, and by which rule? Answered
// offline from manifests with the same engine the policy controller serves, so a policy change
// can be reviewed before it is applied.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Command } from 'commander';
import {
  createPolicyIndex,
  evaluate,
  MeshError,
  MeshErrorCode,
  parseIpAddress,
  parsePolicyResources,
  type PolicyDecision,
} from '@tsmesh/core';
import { CoreKinds, MeshKinds, parseManifests, type ResourceKind } from '@tsmesh/kube';
import { guarded } from './command-errors.js';

/** The kinds the policy engine reads from manifests. */
const POLICY_KINDS: readonly ResourceKind[] = [
  CoreKinds.Pod,
  CoreKinds.Namespace,
  MeshKinds.Server,
  MeshKinds.ServerAuthorization,
  MeshKinds.AuthorizationPolicy,
  MeshKinds.MeshTLSAuthentication,
  MeshKinds.NetworkAuthentication,
  MeshKinds.PolicyHTTPRoute,
  MeshKinds.HTTPLocalRateLimitPolicy,
  MeshKinds.ExternalWorkload,
  MeshKinds.GatewayHTTPRoute,
  MeshKinds.GatewayGRPCRoute,
];

/**
 * The client address used when only an identity is given: inside Linkerd's default cluster
 * networks (100.64.0.0/10). It is evaluated, never contacted.
 */
export const DEFAULT_CLIENT_IP = '100.64.0.1';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((name) => MANIFEST_EXTENSIONS.has(extname(name)))
    .sort()
    .map((name) => join(path, name));
}

export interface PolicyTarget {
  namespace: string;
  workload: string;
  port: number;
}

/** `<namespace>/<pod>:<port>` (namespace `default` when left out). */
export function parsePolicyTarget(text: string): PolicyTarget {
  const match = /^(?:([a-z0-9-]+)\/)?([a-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `cannot read the target "${text}"`, {
      where: '--to',
      hint: 'write it as <namespace>/<pod>:<port>, e.g. emojivoto/web-5f7c9:8080',
    });
  }
  return { namespace: match[1] ?? 'default', workload: match[2]!, port };
}

function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf(':');
    if (at <= 0) {
      throw new MeshError(MeshErrorCode.InvalidArgument, `cannot read the header "${value}"`, {
        where: '--header',
        hint: 'write it as name:value',
      });
    }
    headers[value.slice(0, at).trim().toLowerCase()] = value.slice(at + 1).trim();
  }
  return headers;
}

export function formatDecision(decision: PolicyDecision): string {
  const server = decision.server;
  const lines = [
    `Decision:      ${decision.decision}${decision.httpStatus ? ` (HTTP ${decision.httpStatus})` : ''}`,
    `Reason:        ${decision.reason}`,
    `Server:        ${server.kind}/${server.name}`,
    `Protocol:      ${decision.protocol}`,
  ];
  if (decision.route) lines.push(`Route:         ${decision.route.kind}/${decision.route.name}`);
  if (decision.authorization) {
    lines.push(`Authorized by: ${decision.authorization.kind}/${decision.authorization.name}`);
  }
  lines.push(`Why:           ${decision.explanation}`);
  return `${lines.join('\n')}\n`;
}

interface CheckOptions {
  from: string;
  fromIp?: string;
  to: string;
  filename: string[];
  path?: string;
  method?: string;
  host?: string;
  header: string[];
  output: 'text' | 'json';
}

export function registerPolicyCommand(
  program: Command,
  out: (text: string) => void,
  err: (text: string) => void,
): void {
  const policy = program.command('policy').description('Review authorization policy offline');
  policy
    .command('check')
    .description('Would a client reach a workload port (or a request a route), and by which rule?')
    .requiredOption('--from <identity|ip>', "the client: its mesh identity, or its IP when it isn't meshed")
    .option('--from-ip <ip>', `the client's IP when --from is an identity (default ${DEFAULT_CLIENT_IP})`)
    .requiredOption('--to <namespace/pod:port>', 'the workload port, e.g. emojivoto/web-5f7c9:8080')
    .requiredOption(
      '-f, --filename <path>',
      'manifest file or directory (Pods, Namespaces and policy resources; repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--path <path>', 'check an HTTP request with this path (otherwise: the connection)')
    .option('--method <method>', 'HTTP method of the request', 'GET')
    .option('--host <host>', 'Host header of the request')
    .option(
      '--header <name:value>',
      'a request header (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('-o, --output <format>', 'text or json', 'text')
    .action(
      guarded('tsmesh policy check', err, (opts: CheckOptions) => {
        const objects: unknown[] = [];
        for (const file of opts.filename.flatMap(manifestFiles)) {
          const parsed = parseManifests(readFileSync(file, 'utf8'), file, { kinds: POLICY_KINDS });
          // A bad document is reported and skipped; the rest still answer the question.
          for (const problem of [...parsed.errors, ...parsed.warnings]) err(`warning: ${problem.describe()}`);
          objects.push(...parsed.objects.map((o) => o.object));
        }
        const index = createPolicyIndex(parsePolicyResources(objects));
        for (const warning of index.warnings) err(`warning: ${warning}`);

        const fromIsIp = parseIpAddress(opts.from) !== undefined;
        const client = fromIsIp
          ? { ip: opts.from }
          : { ip: opts.fromIp ?? DEFAULT_CLIENT_IP, identity: opts.from };
        const request =
          opts.path === undefined
            ? undefined
            : { path: opts.path, method: opts.method, host: opts.host, headers: parseHeaders(opts.header) };
        const decision = evaluate({ client, target: parsePolicyTarget(opts.to), request }, index);
        out(
          opts.output === 'json'
            ? `${JSON.stringify(toJson(decision), null, 2)}\n`
            : formatDecision(decision),
        );
      }),
    );
}

function toJson(decision: PolicyDecision) {
  const {
    decision: kind,
    reason,
    httpStatus,
    server,
    protocol,
    route,
    authorization,
    explanation,
  } = decision;
  return { decision: kind, reason, httpStatus, server, protocol, route, authorization, explanation };
}
