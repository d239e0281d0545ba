// A small SVG line chart: time on x, one or more series on y, a nice axis, a legend. Plain SVG
// keeps the bundle small; the charts only ever show a few hundred points.
import { linePath, niceMax, ticksOf } from './chart-scale.js';

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
}

export interface LineChartProps {
  readonly title: string;
  readonly times: readonly number[];
  readonly series: readonly ChartSeries[];
  readonly format: (v: number) => string;
  /** Fixed top of the axis (e.g. 1 for a success rate). */
  readonly yMax?: number;
}

const W = 320;
const H = 120;
const LEFT = 56;
const BOTTOM = 18;

export function LineChart({ title, times, series, format, yMax }: LineChartProps) {
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const max = yMax ?? niceMax(Math.max(0, ...values));
  const x0 = times[0] ?? 0;
  const x1 = times.at(-1) ?? 1;
  const frame = { width: W, height: H, x0, x1, yMax: max };
  const spanS = Math.round((x1 - x0) / 1000);
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>
        <span className="chart-title">{title}</span>
        {series.map((s) => (
          <span key={s.label} className="legend">
            <i style={{ background: s.color }} />
            {s.label}
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${W + LEFT + 8} ${H + BOTTOM + 8}`} role="img" aria-label={`${title} chart`}>
        <g transform={`translate(${LEFT},4)`}>
          {ticksOf(max).map((t) => {
            const y = H - (t / max) * H;
            return (
              <g key={t}>
                <line x1={0} x2={W} y1={y} y2={y} className="grid" />
                <text x={-6} y={y + 4} textAnchor="end" className="tick">
                  {format(t)}
                </text>
              </g>
            );
          })}
          <text x={0} y={H + 14} className="tick">
            {times.length > 1 ? `-${spanS}s` : ''}
          </text>
          <text x={W} y={H + 14} textAnchor="end" className="tick">
            now
          </text>
          {series.map((s) => (
            <path
              key={s.label}
              d={linePath(
                times.map((t, i) => ({ x: t, y: s.values[i] ?? null })),
                frame,
              )}
              stroke={s.color}
              fill="none"
              strokeWidth={2}
            />
          ))}
          {times.length < 2 && (
            <text x={W / 2} y={H / 2} textAnchor="middle" className="empty">
              collecting…
            </text>
          )}
        </g>
      </svg>
    </figure>
  );
}
