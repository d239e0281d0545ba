import { describe, expect, it } from 'vitest';
import { formatReport, runChecks, type CheckCategory } from './run-checks.js';

const fail = (message: string) => async () => {
  throw new Error(message);
};

describe('runChecks', () => {
  it('retries a retryable check until it passes, reporting progress', async () => {
    let calls = 0;
    const progress: string[] = [];
    const report = await runChecks(
      [
        {
          name: 'linkerd-existence',
          checks: [
            {
              description: 'control plane pods are ready',
              hintAnchor: 'l5d-api-control-ready',
              retry: true,
              run: async () => {
                if (++calls < 3) throw new Error('No running pods for "linkerd-destination"');
              },
            },
          ],
        },
      ],
      { waitMs: 5_000, retryDelayMs: 1, onProgress: (l) => progress.push(l) },
    );
    expect(report.success).toBe(true);
    expect(calls).toBe(3);
    expect(progress).toHaveLength(2);
    expect(progress[0]).toMatch(/control plane pods are ready: No running pods .* \(retry 1, waiting\)/);
  });

  it('marks warnings ‼ without failing, errors × with their hint, and stops after a fatal error', async () => {
    const categories: CheckCategory[] = [
      {
        name: 'linkerd-identity',
        checks: [
          {
            description: 'issuer cert is valid for at least 60 days',
            hintAnchor: 'a',
            warning: true,
            run: fail('expires in 3 days'),
          },
          {
            description: 'certificate config is valid',
            hintAnchor: 'b',
            fatal: true,
            run: fail('no issuer'),
          },
          { description: 'never run', hintAnchor: 'c', run: async () => {} },
        ],
      },
    ];
    const report = await runChecks(categories, { waitMs: 0 });
    expect(report.success).toBe(false);
    expect(report.categories[0]!.checks.map((c) => c.result)).toEqual(['warning', 'error']);
    expect(formatReport(report)).toBe(
      [
        'linkerd-identity',
        '----------------',
        '‼ issuer cert is valid for at least 60 days',
        '    expires in 3 days',
        '    see https://linkerd.io/2/checks/#a for hints',
        '× certificate config is valid',
        '    no issuer',
        '    see https://linkerd.io/2/checks/#b for hints',
        '',
        'Status check results are ×',
        '',
      ].join('\n'),
    );
  });
});
