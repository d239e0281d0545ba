// Live top and tap of a workload, over the tap service's server-sent events (/api/top, /api/tap;
// see packages/viz/README.md). A stream runs only while its view is started, and is closed when
// the view goes away.
import { useEffect, useRef, useState } from 'react';
import { query } from '../api.js';
import { formatLatency, formatPercent } from '../format.js';
import { applyTapEvent, type TapEvent, type TapRow } from './tap-rows.js';
import { Empty, Lock, SuccessRate } from './tables.js';

interface TopRow {
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  readonly count: number;
  readonly best: number;
  readonly worst: number;
  readonly last: number;
  readonly successRate: number;
}

type Status = { state: 'idle' } | { state: 'running' } | { state: 'error'; message: string };

/** The JSON error of a refused stream request (aborted at once if it streams after all). */
async function reasonOf(path: string): Promise<string> {
  const controller = new AbortController();
  try {
    const res = await fetch(path, { signal: controller.signal });
    if (res.ok) return 'the tap stream closed';
    const body = (await res.json()) as { error?: string; hint?: string };
    return body.hint ? `${body.error} (${body.hint})` : (body.error ?? `HTTP ${res.status}`);
  } catch {
    return 'the tap stream closed';
  } finally {
    controller.abort();
  }
}

/** A 5xx, or a gRPC status other than OK in the trailers. */
const failed = (r: TapRow) => (r.status !== undefined && r.status >= 500) || (r.grpcStatus ?? 0) > 0;

function useStream(path: string, running: boolean, event: string, onData: (data: unknown) => void): Status {
  const [status, setStatus] = useState<Status>({ state: 'idle' });
  const handler = useRef(onData);
  handler.current = onData;
  useEffect(() => {
    if (!running) {
      setStatus({ state: 'idle' });
      return;
    }
    const source = new EventSource(path);
    let active = true;
    setStatus({ state: 'running' });
    source.addEventListener(event, (m) => handler.current(JSON.parse((m as MessageEvent<string>).data)));
    source.addEventListener('error', (m) => {
      const data = (m as MessageEvent<string | undefined>).data;
      if (data) {
        const { error } = JSON.parse(data) as { error?: string };
        setStatus({ state: 'error', message: error ?? 'tap error' });
      } else if (source.readyState === EventSource.CLOSED) {
        // EventSource hides a refused request's body: ask once more to show the server's reason.
        setStatus({ state: 'error', message: 'the tap stream closed' });
        void reasonOf(path).then((message) => active && setStatus({ state: 'error', message }));
      }
    });
    return () => {
      active = false;
      source.close();
    };
  }, [path, running, event]);
  return status;
}

function StreamControls({
  running,
  setRunning,
  status,
}: {
  running: boolean;
  setRunning: (r: boolean) => void;
  status: Status;
}) {
  return (
    <div className="controls">
      <button type="button" onClick={() => setRunning(!running)} className={running ? 'stop' : 'start'}>
        {running ? 'Stop' : 'Start'}
      </button>
      {status.state === 'error' && <span className="error">{status.message}</span>}
      {status.state === 'running' && <span className="live">● live</span>}
    </div>
  );
}

export function LiveTop({ namespace, name }: { namespace: string; name: string }) {
  const [running, setRunning] = useState(false);
  const [rows, setRows] = useState<readonly TopRow[]>([]);
  const path = query('/api/top', { resource: `deploy/${name}`, namespace });
  const status = useStream(path, running, 'top', (d) => setRows((d as { rows: TopRow[] }).rows));
  return (
    <section>
      <StreamControls running={running} setRunning={setRunning} status={status} />
      {rows.length === 0 ? (
        <Empty>{running ? 'Waiting for requests…' : 'Start to see the most frequent requests live.'}</Empty>
      ) : (
        <table className="stat top" data-live="top">
          <thead>
            <tr>
              <th>Source</th>
              <th>Destination</th>
              <th>Method</th>
              <th>Path</th>
              <th className="num">Count</th>
              <th className="num">Best</th>
              <th className="num">Worst</th>
              <th className="num">Last</th>
              <th className="num">Success rate</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.source}>${r.destination}>${r.method}>${r.path}`}>
                <td>{r.source}</td>
                <td>{r.destination}</td>
                <td>{r.method}</td>
                <td className="path">{r.path}</td>
                <td className="num">{r.count}</td>
                <td className="num">{formatLatency(r.best)}</td>
                <td className="num">{formatLatency(r.worst)}</td>
                <td className="num">{formatLatency(r.last)}</td>
                <td className="num">
                  <SuccessRate rate={r.successRate} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function LiveTap({ namespace, name }: { namespace: string; name: string }) {
  const [running, setRunning] = useState(false);
  const [rows, setRows] = useState<TapRow[]>([]);
  const path = query('/api/tap', { resource: `deploy/${name}`, namespace });
  const status = useStream(path, running, 'tap', (d) => setRows((rs) => applyTapEvent(rs, d as TapEvent)));
  return (
    <section>
      <StreamControls running={running} setRunning={setRunning} status={status} />
      {rows.length === 0 ? (
        <Empty>{running ? 'Waiting for requests…' : 'Start to see each request live.'}</Empty>
      ) : (
        <table className="stat tap" data-live="tap">
          <thead>
            <tr>
              <th>Direction</th>
              <th>From</th>
              <th>To</th>
              <th>Method</th>
              <th>Path</th>
              <th className="num">Status</th>
              <th className="num">Latency</th>
              <th>TLS</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} className={failed(r) ? 'failed' : ''}>
                <td>{r.direction}</td>
                <td>{r.source}</td>
                <td>{r.destination}</td>
                <td>{r.method}</td>
                <td className="path">{r.path}</td>
                <td className="num">
                  {r.status ?? '…'}
                  {r.grpcStatus ? ` · gRPC ${r.grpcStatus}` : ''}
                </td>
                <td className="num">{formatLatency(r.latencyMs)}</td>
                <td>{r.tls === 'true' ? <Lock /> : r.tls || '-'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rows.length > 0 && (
        <p className="hint">
          {rows.filter((r) => r.done).length} of the last {rows.length} requests complete;{' '}
          {formatPercent(rows.filter((r) => r.status !== undefined && !failed(r)).length / rows.length)}{' '}
          answered without failing (no 5xx, gRPC OK).
        </p>
      )}
    </section>
  );
}
