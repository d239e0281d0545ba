// Shared by the CLI's tests: `tsmesh ARGS` run in-process with its output captured (exit code as
// the binary would have it), and golden files (regenerated with TSMESH_UPDATE_GOLDEN=1).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { expect } from 'vitest';
import { createProgram, type ProgramIo } from '../program.js';

export interface ProgramRun {
  out: string;
  err: string;
  exitCode: number;
}

export interface RunProgramOptions {
  /** stderr into `out` as well, in the order written (`err` stays empty). */
  readonly mergeErr?: boolean;
  /** Each write ends a line, as the binary prints it (a newline added unless it ends with one). */
  readonly lines?: boolean;
  /** A program other than the whole CLI (e.g. one command with a fake stdin). */
  readonly program?: (io: ProgramIo) => Command;
}

export async function runProgram(
  args: readonly string[],
  options: RunProgramOptions = {},
): Promise<ProgramRun> {
  const run: ProgramRun = { out: '', err: '', exitCode: 0 };
  const line = options.lines ? (t: string) => (t.endsWith('\n') ? t : `${t}\n`) : (t: string) => t;
  const io: ProgramIo = {
    out: (t) => (run.out += line(t)),
    err: options.mergeErr ? (t) => (run.out += line(t)) : (t) => (run.err += line(t)),
  };
  try {
    await (options.program ?? createProgram)(io).parseAsync(['node', 'tsmesh', ...args]);
  } catch (e) {
    run.exitCode = (e as { exitCode?: number }).exitCode ?? 1;
  }
  return run;
}

/** `actual` equals the golden file `name` in `dir` (written first when missing or when updating). */
export function expectGolden(dir: URL, name: string, actual: string): void {
  const url = new URL(name, dir);
  if (process.env.TSMESH_UPDATE_GOLDEN === '1' || !existsSync(url)) writeFileSync(url, actual);
  expect(actual).toBe(readFileSync(url, 'utf8'));
}
