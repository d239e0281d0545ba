// The three pages: the overview (namespaces and every workload), a namespace (its workloads, the
// topology of their calls, authorization decisions) and a workload (charts over time, its routes,
// who it calls and who calls it, live top and tap).
import { useState, type ReactNode } from 'react';
import {
  query,
  usePolled,
  type AuthzRow,
  type Edge,
  type Meta,
  type Polled,
  type Rows,
  type SeriesPoint,
  type StatRow,
} from '../api.js';
import { LineChart } from '../charts/line-chart.js';
import { formatLatency, formatPercent, formatRps } from '../format.js';
import { navigate, pathOf, type Route } from '../router.js';
import { TopologyGraph } from '../topology/topology-graph.js';
import { LiveTap, LiveTop } from './live-views.js';
import { AuthzTable, EdgesTable, Empty, StatTable } from './tables.js';

const workloadOf = (r: StatRow): Route => ({ page: 'workload', namespace: r.namespace, name: r.name });

function Section({ title, children, id }: { title: string; children: ReactNode; id?: string }) {
  return (
    <section className="card" id={id}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** A card of polled rows: the load error if any, "collecting" while the server warms up, then the rows. */
function DataSection<T>({
  title,
  id,
  polled,
  children,
}: {
  title: string;
  id?: string;
  polled: Polled<Rows<T>>;
  children: (rows: readonly T[]) => ReactNode;
}) {
  const { data, error } = polled;
  return (
    <Section title={title} {...(id ? { id } : {})}>
      {error && <p className="error">Could not load: {error}</p>}
      {!data ? (
        <Empty>Loading…</Empty>
      ) : data.warming ? (
        <Empty>Collecting a first window of metrics…</Empty>
      ) : (
        children(data.rows)
      )}
    </Section>
  );
}

export function Overview() {
  const ns = usePolled<Rows<StatRow>>(query('/api/stat', { resource: 'namespace' }));
  const deploys = usePolled<Rows<StatRow>>(query('/api/stat', { resource: 'deployment' }));
  return (
    <>
      <h1>Overview</h1>
      <DataSection title="Namespaces" polled={ns}>
        {(rows) => (
          <StatTable
            rows={rows}
            nameHeader="Namespace"
            showMeshed
            link={(r) => ({ page: 'namespace', namespace: r.name })}
          />
        )}
      </DataSection>
      <DataSection title="Workloads (deployments)" polled={deploys}>
        {(rows) => (
          <StatTable rows={rows} nameHeader="Deployment" showNamespace showMeshed link={workloadOf} />
        )}
      </DataSection>
    </>
  );
}

export function NamespacePage({ namespace, meta }: { namespace: string; meta: Meta | undefined }) {
  const deploys = usePolled<Rows<StatRow>>(query('/api/stat', { resource: 'deployment', namespace }));
  const edges = usePolled<Rows<Edge>>(query('/api/edges', { namespace }));
  const authz = usePolled<Rows<AuthzRow>>(query('/api/authz', { namespace }));
  const windowSeconds = meta?.windowSeconds ?? 1;
  return (
    <>
      <h1>
        Namespace <span className="subject">{namespace}</span>
      </h1>
      <DataSection title="Workloads (deployments)" polled={deploys}>
        {(rows) => <StatTable rows={rows} nameHeader="Deployment" showMeshed showTcp link={workloadOf} />}
      </DataSection>
      <DataSection title="Topology" id="topology" polled={edges}>
        {(rows) => (
          <>
            <TopologyGraph
              edges={rows}
              stats={deploys.data?.rows ?? []}
              windowSeconds={windowSeconds}
              onOpen={(ns, name) => navigate(pathOf({ page: 'workload', namespace: ns, name }))}
            />
            <p className="hint">
              Green: secured by mutual TLS · dashed red: not secured. Click a workload to open it.
            </p>
          </>
        )}
      </DataSection>
      <DataSection title="Authorization decisions" polled={authz}>
        {(rows) => <AuthzTable rows={rows} />}
      </DataSection>
    </>
  );
}

const COLORS = { p50: '#2f80ed', p95: '#f2994a', p99: '#eb5757', rps: '#2f80ed', sr: '#27ae60' };

function Charts({ points }: { points: readonly SeriesPoint[] }) {
  const times = points.map((p) => p.atMs);
  return (
    <div className="charts">
      <LineChart
        title="Success rate"
        times={times}
        yMax={1}
        format={(v) => formatPercent(v)}
        series={[{ label: 'success', color: COLORS.sr, values: points.map((p) => p.successRate) }]}
      />
      <LineChart
        title="Requests a second"
        times={times}
        format={(v) => formatRps(v)}
        series={[{ label: 'rps', color: COLORS.rps, values: points.map((p) => p.rps) }]}
      />
      <LineChart
        title="Latency"
        times={times}
        format={(v) => formatLatency(v)}
        series={[
          { label: 'p50', color: COLORS.p50, values: points.map((p) => p.latencyMsP50) },
          { label: 'p95', color: COLORS.p95, values: points.map((p) => p.latencyMsP95) },
          { label: 'p99', color: COLORS.p99, values: points.map((p) => p.latencyMsP99) },
        ]}
      />
    </div>
  );
}

type LiveTab = 'top' | 'tap';

export function WorkloadPage({
  namespace,
  name,
  meta,
}: {
  namespace: string;
  name: string;
  meta: Meta | undefined;
}) {
  const self = usePolled<Rows<StatRow>>(query('/api/stat', { resource: `deployment/${name}`, namespace }));
  const series = usePolled<{ points: SeriesPoint[] }>(query('/api/series', { namespace, deployment: name }));
  const routes = usePolled<Rows<StatRow>>(
    query('/api/stat', { resource: 'route', namespace, within: `deployment/${name}` }),
  );
  const outbound = usePolled<Rows<StatRow>>(
    query('/api/stat', { resource: 'deployment', namespace, from: `deployment/${name}` }),
  );
  const edges = usePolled<Rows<Edge>>(query('/api/edges', {}));
  const authz = usePolled<Rows<AuthzRow>>(query('/api/authz', { namespace, deployment: name }));
  const [live, setLive] = useState<LiveTab>('top');
  const windowSeconds = meta?.windowSeconds ?? 1;
  const involves = (e: Edge) =>
    (e.src.namespace === namespace && e.src.name === name) ||
    (e.dst.namespace === namespace && e.dst.name === name);
  return (
    <>
      <h1>
        Deployment <span className="subject">{name}</span> <span className="muted">in {namespace}</span>
      </h1>
      <DataSection title="Golden metrics" polled={self}>
        {(rows) => (
          <>
            <StatTable rows={rows} nameHeader="Deployment" showMeshed showTcp />
            <Charts points={series.data?.points ?? []} />
          </>
        )}
      </DataSection>
      <DataSection title="Routes (inbound)" id="routes" polled={routes}>
        {(rows) => <StatTable rows={rows} nameHeader="Route" />}
      </DataSection>
      {/* Needs the proxies' dst_* labels; without them the edges below show the calls out. */}
      {(outbound.data?.rows.length ?? 0) > 0 && (
        <DataSection title="Calls out (by destination)" polled={outbound}>
          {(rows) => <StatTable rows={rows} nameHeader="Destination" link={workloadOf} />}
        </DataSection>
      )}
      <DataSection title="Edges" id="edges" polled={edges}>
        {(rows) => <EdgesTable edges={rows.filter(involves)} windowSeconds={windowSeconds} />}
      </DataSection>
      <DataSection title="Authorization decisions" polled={authz}>
        {(rows) => <AuthzTable rows={rows} />}
      </DataSection>
      <Section title="Live">
        {meta?.tap === false ? (
          <Empty>Tap is not available from this dashboard (the tap service is not configured).</Empty>
        ) : (
          <>
            <div className="tabs" role="tablist">
              {(['top', 'tap'] as const).map((t) => (
                <button
                  key={t}
                  type="button"
                  role="tab"
                  aria-selected={live === t}
                  className={live === t ? 'active' : ''}
                  onClick={() => setLive(t)}
                >
                  {t === 'top' ? 'Top' : 'Tap'}
                </button>
              ))}
            </div>
            {live === 'top' ? (
              <LiveTop namespace={namespace} name={name} />
            ) : (
              <LiveTap namespace={namespace} name={name} />
            )}
          </>
        )}
      </Section>
    </>
  );
}
