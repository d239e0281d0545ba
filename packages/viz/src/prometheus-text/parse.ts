// A reader for the Prometheus text exposition format (version 0.0.4) as proxies' /metrics serve
// it: samples with their labels, values (incl. NaN and ±Inf) and optional timestamps. Comment
// lines (# HELP / # TYPE) are skipped. A malformed line is reported with its line number instead
// of taking the reader down: `parsePrometheusText` collects the problems, the caller decides.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

export interface ParseProblem {
  /** 1-based line number. */
  readonly line: number;
  readonly message: string;
}

export interface ParsedText {
  readonly samples: Sample[];
  readonly problems: ParseProblem[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string): number | undefined {
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    default: {
      if (text === '' || !/^[-+]?[0-9.eE+-]+$/.test(text)) return undefined;
      const n = Number(text);
      return Number.isNaN(n) ? undefined : n;
    }
  }
}

/** One sample line; throws a message naming what is wrong. */
function parseLine(line: string): Sample {
  const name = NAME.exec(line)?.[0];
  if (!name) throw new Error('expected a metric name');
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    for (;;) {
      while (line[at] === ' ') at++;
      if (line[at] === '}') {
        at++;
        break;
      }
      const key = LABEL_NAME.exec(line.slice(at))?.[0];
      if (!key) throw new Error(`expected a label name at column ${at + 1}`);
      at += key.length;
      if (line[at] !== '=' || line[at + 1] !== '"') throw new Error(`expected ="…" after label ${key}`);
      at += 2;
      let value = '';
      for (;;) {
        const c = line[at];
        if (c === undefined) throw new Error(`unterminated value of label ${key}`);
        at++;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[at++];
          value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e ?? ''}`;
        } else value += c;
      }
      labels[key] = value;
      while (line[at] === ' ') at++;
      if (line[at] === ',') at++;
      else if (line[at] !== '}') throw new Error(`expected , or } after label ${key}`);
    }
  }
  const fields = line.slice(at).trim().split(/\s+/);
  if (fields.length < 1 || fields.length > 2 || fields[0] === '')
    throw new Error('expected a value (and an optional timestamp) after the name and labels');
  const value = parseValue(fields[0]!);
  if (value === undefined) throw new Error(`${JSON.stringify(fields[0])} is not a number`);
  if (fields.length === 2) {
    const ts = Number(fields[1]);
    if (!Number.isInteger(ts)) throw new Error(`${JSON.stringify(fields[1])} is not a timestamp`);
    return { name, labels, value, timestampMs: ts };
  }
  return { name, labels, value };
}

export function parsePrometheusTextDetailed(text: string): ParsedText {
  const samples: Sample[] = [];
  const problems: ParseProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      samples.push(parseLine(line));
    } catch (e) {
      problems.push({ line: i + 1, message: (e as Error).message });
    }
  }
  return { samples, problems };
}

/** The samples of a /metrics body; malformed lines are skipped (see parsePrometheusTextDetailed). */
export function parsePrometheusText(text: string): Sample[] {
  return parsePrometheusTextDetailed(text).samples;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const formatValue = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);

/** A sample as one text-format line (the inverse of parsing). */
export function formatSample(s: Sample): string {
  const labels = Object.entries(s.labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  const ts = s.timestampMs === undefined ? '' : ` ${s.timestampMs}`;
  return `${s.name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}${ts}`;
}
