// Command-line flags the way Go's flag package reads them (Linkerd's binaries use it): `-name`,
// `--name`, `-name=value`, `-name value`; a boolean flag takes `-name` or `-name=false`. Parsing
// stops at the first non-flag argument or `--`. Unknown flags and bad values are MeshErrors (code
// config) naming the flag.
import { MeshError, MeshErrorCode } from '@tsmesh/core';

export type FlagSpec = Readonly<
  Record<string, { readonly type: 'string' | 'boolean'; readonly usage: string }>
>;

export interface ParsedFlags {
  readonly values: ReadonlyMap<string, string | boolean>;
  readonly rest: readonly string[];
}

export function parseGoFlags(argv: readonly string[], spec: FlagSpec, program: string): ParsedFlags {
  const values = new Map<string, string | boolean>();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const flag = spec[name];
    if (!flag) {
      throw new MeshError(MeshErrorCode.Config, `flag provided but not defined: -${name}`, {
        hint: `see ${program} -help`,
      });
    }
    if (flag.type === 'boolean') {
      const text = eq < 0 ? 'true' : body.slice(eq + 1);
      if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False'].includes(text)) {
        throw new MeshError(MeshErrorCode.Config, `invalid boolean value "${text}"`, { where: `-${name}` });
      }
      values.set(name, ['true', '1', 't', 'TRUE', 'True'].includes(text));
    } else if (eq >= 0) {
      values.set(name, body.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next === undefined) {
        throw new MeshError(MeshErrorCode.Config, 'flag needs an argument', { where: `-${name}` });
      }
      values.set(name, next);
      i++;
    }
  }
  return { values, rest: argv.slice(i) };
}

export function formatUsage(program: string, summary: string, spec: FlagSpec): string {
  const lines = Object.entries(spec).map(
    ([name, f]) => `  -${name}${f.type === 'string' ? ' value' : ''}\n        ${f.usage}`,
  );
  return `Usage: ${program} [flags]\n\n${summary}\n\n${lines.join('\n')}\n`;
}
