// Routes from an OpenAPI document (Swagger 2.0 or OpenAPI 3.x, YAML or JSON), as linkerd builds
// them: paths in sorted order, one route per operation named "METHOD /path", the path as a
// regular expression with each {parameter} matching one segment, a response class per declared
// numeric status (a failure from 500 up). The extensions x-linkerd-retryable (boolean) and
// x-linkerd-timeout (duration) on an operation become isRetryable and timeout.
import { MeshError, MeshErrorCode, parseDurationMs } from '@tsmesh/core';
import { parse as parseYaml } from 'yaml';
import { quoteRegex, type ResponseClass, type RouteSpec } from './service-profile.js';

/** Methods in the order linkerd emits them for one path. */
const METHODS = ['delete', 'get', 'head', 'options', 'patch', 'post', 'put'] as const;

export function pathToRegex(path: string): string {
  return path
    .split(/\{[^}]*\}/)
    .map(quoteRegex)
    .join('[^/]*');
}

function responseClasses(responses: unknown): ResponseClass[] | undefined {
  if (!responses || typeof responses !== 'object') return undefined;
  const statuses = Object.keys(responses)
    .filter((k) => /^\d{3}$/.test(k))
    .map(Number)
    .sort((a, b) => a - b);
  return statuses.map((status) => ({
    condition: { status: { min: status, max: status } },
    isFailure: status >= 500,
  }));
}

function invalid(file: string, where: string, message: string, hint: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, message, { where: `${file}: ${where}`, hint });
}

export function openApiRoutes(text: string, file: string): RouteSpec[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw invalid(
      file,
      'document',
      `not YAML or JSON: ${(err as Error).message}`,
      'pass an OpenAPI (Swagger) file',
    );
  }
  if (!doc || typeof doc !== 'object' || !('swagger' in doc || 'openapi' in doc)) {
    throw invalid(
      file,
      'document',
      'not an OpenAPI document (no "swagger" or "openapi" field)',
      'pass an OpenAPI 2.0 or 3.x file',
    );
  }
  const paths = (doc as { paths?: unknown }).paths ?? {};
  if (typeof paths !== 'object' || Array.isArray(paths)) {
    throw invalid(file, 'paths', '"paths" is not a map', 'paths maps each path to its operations');
  }
  const routes: RouteSpec[] = [];
  for (const path of Object.keys(paths).sort()) {
    const item = (paths as Record<string, unknown>)[path];
    if (!item || typeof item !== 'object') continue;
    for (const method of METHODS) {
      const op = (item as Record<string, unknown>)[method] as Record<string, unknown> | undefined;
      if (!op || typeof op !== 'object') continue;
      const upper = method.toUpperCase();
      const route: RouteSpec = {
        name: `${upper} ${path}`,
        condition: { method: upper, pathRegex: pathToRegex(path) },
      };
      const classes = responseClasses(op.responses);
      if (classes?.length) route.responseClasses = classes;
      if (op['x-linkerd-retryable'] === true) route.isRetryable = true;
      const timeout = op['x-linkerd-timeout'];
      if (timeout !== undefined) {
        if (typeof timeout !== 'string' || parseDurationMs(timeout) === undefined) {
          throw invalid(
            file,
            `paths["${path}"].${method}.x-linkerd-timeout`,
            `"${String(timeout)}" is not a duration`,
            'e.g. 300ms, 2s',
          );
        }
        route.timeout = timeout;
      }
      routes.push(route);
    }
  }
  return routes;
}
