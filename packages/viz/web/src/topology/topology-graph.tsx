// The topology graph: workloads as boxes (coloured by success rate), calls as arrows labelled with
// requests a second, green and locked when mutual TLS secures them, dashed red when not.
import { formatPercent, formatRps, healthOf } from '../format.js';
import type { Edge, StatRow } from '../api.js';
import { layoutGraph } from './graph-layout.js';

const NODE_W = 150;
const NODE_H = 46;
const GAP_X = 110;
const GAP_Y = 26;

export interface TopologyProps {
  readonly edges: readonly Edge[];
  readonly stats: readonly StatRow[];
  readonly windowSeconds: number;
  readonly onOpen?: (namespace: string, name: string) => void;
}

const idOf = (w: { namespace: string; name: string }) => `${w.namespace}/${w.name}`;

export function TopologyGraph({ edges, stats, windowSeconds, onOpen }: TopologyProps) {
  const layout = layoutGraph(
    stats.map(idOf),
    edges.map((e) => ({ from: idOf(e.src), to: idOf(e.dst) })),
  );
  if (layout.nodes.length === 0) return <p className="empty">No traffic between workloads yet.</p>;
  const pos = new Map(
    layout.nodes.map((n) => [n.id, { x: n.column * (NODE_W + GAP_X), y: n.row * (NODE_H + GAP_Y) }]),
  );
  const stat = new Map(stats.map((s) => [idOf(s), s]));
  const width = layout.columns * (NODE_W + GAP_X) - GAP_X;
  const height = layout.rows * (NODE_H + GAP_Y) - GAP_Y;
  return (
    <svg
      className="topology"
      viewBox={`-10 -10 ${width + 20} ${height + 20}`}
      style={{ maxWidth: width + 20 }}
      role="img"
      aria-label="topology graph"
    >
      <defs>
        {['secured', 'plain'].map((k) => (
          <marker
            key={k}
            id={`arrow-${k}`}
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0L10,5L0,10z" className={`arrow-${k}`} />
          </marker>
        ))}
      </defs>
      {edges.map((e) => {
        const a = pos.get(idOf(e.src));
        const b = pos.get(idOf(e.dst));
        if (!a || !b || a === b) return null;
        const x1 = a.x + NODE_W;
        const y1 = a.y + NODE_H / 2;
        const x2 = b.x;
        const y2 = b.y + NODE_H / 2;
        const back = x2 <= x1;
        const mid = (x1 + x2) / 2;
        const d = back
          ? `M${x1},${y1}C${x1 + 60},${y1 + 70} ${x2 - 60},${y2 + 70} ${x2},${y2}`
          : `M${x1},${y1}C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
        const kind = e.secured ? 'secured' : 'plain';
        const title = `${e.src.name} → ${e.dst.name}: ${e.secured ? `mTLS (server ${e.serverId || '?'})` : `not secured: ${e.noTlsReason || 'unknown'}`}`;
        return (
          <g
            key={`${idOf(e.src)}>${idOf(e.dst)}>${e.serverId}>${String(e.secured)}`}
            data-edge={`${e.src.name}>${e.dst.name}`}
          >
            <title>{title}</title>
            <path d={d} className={`edge edge-${kind}`} markerEnd={`url(#arrow-${kind})`} />
            <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 6} textAnchor="middle" className="edge-label">
              {e.secured ? 'mTLS' : 'plain'} · {formatRps(e.requests / windowSeconds)} rps
            </text>
          </g>
        );
      })}
      {layout.nodes.map((n) => {
        const p = pos.get(n.id)!;
        const s = stat.get(n.id);
        const [namespace = '', name = ''] = n.id.split('/');
        return (
          <g
            key={n.id}
            transform={`translate(${p.x},${p.y})`}
            className={`node node-${healthOf(s?.successRate)}`}
            onClick={() => onOpen?.(namespace, name)}
            data-node={name}
          >
            <rect width={NODE_W} height={NODE_H} rx={6} />
            <text x={10} y={19} className="node-name">
              {name}
            </text>
            <text x={10} y={36} className="node-stat">
              {s ? `${formatPercent(s.successRate)} · ${formatRps(s.rps)} rps` : namespace}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
