// The check runner: categories of checks run in order, as `linkerd check` runs them. A check that
// fails with `retry` set is retried until the --wait deadline (progress reported on each retry);
// a failed fatal check stops the run (nothing after it can work); a failed warning check is ‼ and
// does not fail the run. Output: Linkerd's text (√ / ‼ / × with a hint) or its JSON shape.

export type CheckStatus = 'success' | 'warning' | 'error';

export interface Check {
  description: string;
  /** Anchor of the hint, e.g. `l5d-existence-crd` → https://linkerd.io/2/checks/#l5d-existence-crd. */
  hintAnchor: string;
  /** A failure is ‼ (a warning), not ×. */
  warning?: boolean;
  /** Retry until the --wait deadline (things that become true: pods ready). */
  retry?: boolean;
  /** A failure stops the run (e.g. no API access). */
  fatal?: boolean;
  /** Throws (with a message saying what is wrong) when the check fails. */
  run: () => Promise<void>;
}

export interface CheckCategory {
  name: string;
  checks: Check[];
}

export interface CheckResult {
  description: string;
  result: CheckStatus;
  hint?: string;
  error?: string;
}

export interface CategoryResult {
  categoryName: string;
  checks: CheckResult[];
}

export interface CheckReport {
  success: boolean;
  categories: CategoryResult[];
}

export interface RunChecksOptions {
  /** How long retryable checks keep retrying. */
  waitMs: number;
  /** Delay between retries. Default 1 s. */
  retryDelayMs?: number;
  /** Progress while waiting: one line per retry of a check. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export const HINT_BASE = 'https://linkerd.io/2/checks/#';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function runChecks(
  categories: readonly CheckCategory[],
  options: RunChecksOptions,
): Promise<CheckReport> {
  const deadline = Date.now() + options.waitMs;
  const report: CheckReport = { success: true, categories: [] };
  for (const category of categories) {
    const results: CategoryResult = { categoryName: category.name, checks: [] };
    report.categories.push(results);
    for (const check of category.checks) {
      let error: string | undefined;
      for (let attempt = 1; ; attempt++) {
        try {
          await check.run();
          error = undefined;
          break;
        } catch (err) {
          error = message(err);
          if (!check.retry || Date.now() >= deadline || options.signal?.aborted) break;
          options.onProgress?.(`... ${check.description}: ${error} (retry ${attempt}, waiting)`);
          await sleep(
            Math.min(options.retryDelayMs ?? 1000, Math.max(0, deadline - Date.now())),
            options.signal,
          );
        }
      }
      if (error === undefined) {
        results.checks.push({ description: check.description, result: 'success' });
        continue;
      }
      const result: CheckStatus = check.warning ? 'warning' : 'error';
      results.checks.push({
        description: check.description,
        result,
        hint: HINT_BASE + check.hintAnchor,
        error,
      });
      if (result === 'error') report.success = false;
      if (result === 'error' && check.fatal) return report;
    }
  }
  return report;
}

const SYMBOL: Record<CheckStatus, string> = { success: '√', warning: '‼', error: '×' };

/** Linkerd's text output. */
export function formatReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const category of report.categories) {
    lines.push(category.categoryName, '-'.repeat(category.categoryName.length));
    for (const c of category.checks) {
      lines.push(`${SYMBOL[c.result]} ${c.description}`);
      if (c.result !== 'success') {
        lines.push(`    ${c.error ?? ''}`.replace(/\n/g, '\n    '));
        lines.push(`    see ${c.hint} for hints`);
      }
    }
    lines.push('');
  }
  lines.push(`Status check results are ${report.success ? '√' : '×'}`);
  return `${lines.join('\n')}\n`;
}
