import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSample, parsePrometheusText, parsePrometheusTextDetailed, type Sample } from './index.js';

const name = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/);
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/);
const sample: fc.Arbitrary<Sample> = fc.record(
  {
    name,
    labels: fc.dictionary(labelName, fc.string({ maxLength: 16 }), { maxKeys: 5 }),
    value: fc.oneof(
      fc.double(),
      fc.integer().map((n) => n),
    ),
    timestampMs: fc.integer({ min: 0, max: 2 ** 41 }),
  },
  { requiredKeys: ['name', 'labels', 'value'] },
);

describe('parsePrometheusText', () => {
  it('reads what the proxies serve: HELP/TYPE skipped, labels, +Inf buckets, NaN', () => {
    const text = [
      '# HELP request_total Total count of HTTP requests.',
      '# TYPE request_total counter',
      'request_total{direction="inbound",authority="web.emojivoto.svc.cluster.local:80",tls="true"} 12',
      'response_latency_ms_bucket{direction="inbound",le="+Inf"} 7',
      'process_cpu_seconds_total 0.5 1700000000000',
      'weird{a="x\\"y\\\\z\\n"} NaN',
      '',
    ].join('\n');
    const out = parsePrometheusText(text);
    expect(out).toHaveLength(4);
    expect(out[0]).toEqual({
      name: 'request_total',
      labels: { direction: 'inbound', authority: 'web.emojivoto.svc.cluster.local:80', tls: 'true' },
      value: 12,
    });
    expect(out[1]!.labels.le).toBe('+Inf');
    expect(out[2]).toEqual({
      name: 'process_cpu_seconds_total',
      labels: {},
      value: 0.5,
      timestampMs: 1700000000000,
    });
    expect(out[3]!.labels.a).toBe('x"y\\z\n');
    expect(out[3]!.value).toBeNaN();
  });

  it('reports malformed lines with their number and keeps the rest', () => {
    const { samples, problems } = parsePrometheusTextDetailed('a 1\nb{x="1" 2\nc{x="1"} nope\nd 4\n{} 3');
    expect(samples.map((s) => s.name)).toEqual(['a', 'd']);
    expect(problems.map((p) => p.line)).toEqual([2, 3, 5]);
    expect(problems[1]!.message).toContain('"nope" is not a number');
  });

  it('round-trips any sample through formatSample (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 8 }), (samples) => {
        const parsed = parsePrometheusText(samples.map(formatSample).join('\n'));
        expect(parsed).toHaveLength(samples.length);
        parsed.forEach((p, i) => {
          const s = samples[i]!;
          expect(p.name).toBe(s.name);
          expect(p.labels).toEqual(s.labels);
          expect(p.value === s.value || (Number.isNaN(p.value) && Number.isNaN(s.value))).toBe(true);
          expect(p.timestampMs).toBe(s.timestampMs);
        });
      }),
    );
  });

  it('never throws on arbitrary input (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const { samples, problems } = parsePrometheusTextDetailed(text);
        expect(samples.length + problems.length).toBeLessThanOrEqual(text.split('\n').length);
      }),
    );
  });
});
