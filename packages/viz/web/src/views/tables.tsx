// The tables every page uses: golden metrics per resource (Linkerd's columns), edges, and
// authorization decisions.
import type { ReactNode } from 'react';
import type { AuthzRow, Edge, StatRow } from '../api.js';
import {
  formatBytes,
  formatLatency,
  formatMeshed,
  formatPercent,
  formatRps,
  healthOf,
  shortIdentity,
} from '../format.js';
import { pathOf, useLinkClick, type Route } from '../router.js';

export function Link({ to, children }: { to: Route; children: ReactNode }) {
  const onClick = useLinkClick();
  return (
    <a href={pathOf(to)} onClick={onClick}>
      {children}
    </a>
  );
}

export function SuccessRate({ rate }: { rate: number | undefined }) {
  return (
    <span className={`sr sr-${healthOf(rate)}`}>
      <i />
      {formatPercent(rate)}
    </span>
  );
}

/** A padlock (inline SVG: no emoji font needed). */
export function Lock({ open = false }: { open?: boolean }) {
  return (
    <svg className="lock" viewBox="0 0 12 14" width="11" height="13" aria-hidden="true">
      <path
        d={open ? 'M3 6V4a3 3 0 0 1 5.8-1' : 'M3 6V4a3 3 0 0 1 6 0v2'}
        fill="none"
        stroke="currentColor"
        strokeWidth="1.6"
      />
      <rect x="1" y="6" width="10" height="7.5" rx="1.5" fill="currentColor" />
    </svg>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export interface StatTableProps {
  readonly rows: readonly StatRow[];
  /** What the name column links to; none: plain text. */
  readonly link?: (row: StatRow) => Route | undefined;
  readonly nameHeader: string;
  readonly showNamespace?: boolean;
  readonly showMeshed?: boolean;
  readonly showTcp?: boolean;
}

export function StatTable({ rows, link, nameHeader, showNamespace, showMeshed, showTcp }: StatTableProps) {
  if (rows.length === 0) return <Empty>No traffic in this window.</Empty>;
  return (
    <table className="stat">
      <thead>
        <tr>
          {showNamespace && <th>Namespace</th>}
          <th>{nameHeader}</th>
          {showMeshed && <th className="num">Meshed</th>}
          <th className="num">Success rate</th>
          <th className="num">RPS</th>
          <th className="num">P50</th>
          <th className="num">P95</th>
          <th className="num">P99</th>
          <th className="num">mTLS</th>
          {showTcp && <th className="num">TCP conns</th>}
          {showTcp && <th className="num">Read / write</th>}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const to = link?.(r);
          return (
            <tr key={`${r.namespace}/${r.name}`} data-row={r.name}>
              {showNamespace && <td>{r.namespace}</td>}
              <td className="name">{to ? <Link to={to}>{r.name}</Link> : r.name}</td>
              {showMeshed && <td className="num">{formatMeshed(r.meshedPods, r.totalPods)}</td>}
              <td className="num">
                <SuccessRate rate={r.successRate} />
              </td>
              <td className="num" data-rps={r.rps}>
                {formatRps(r.rps)}
              </td>
              <td className="num">{formatLatency(r.latencyMsP50)}</td>
              <td className="num">{formatLatency(r.latencyMsP95)}</td>
              <td className="num">{formatLatency(r.latencyMsP99)}</td>
              <td className="num">{formatPercent(r.tlsShare)}</td>
              {showTcp && <td className="num">{r.tcpConnections}</td>}
              {showTcp && (
                <td className="num">
                  {formatBytes(r.tcpReadBytesPerSec)} / {formatBytes(r.tcpWriteBytesPerSec)}
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function EdgesTable({ edges, windowSeconds }: { edges: readonly Edge[]; windowSeconds: number }) {
  if (edges.length === 0) return <Empty>No edges in this window.</Empty>;
  return (
    <table className="stat edges">
      <thead>
        <tr>
          <th>Source</th>
          <th>Destination</th>
          <th>Client identity</th>
          <th>Server identity</th>
          <th className="num">RPS</th>
          <th>Secured</th>
        </tr>
      </thead>
      <tbody>
        {edges.map((e) => (
          <tr
            key={`${e.src.namespace}/${e.src.name}>${e.dst.namespace}/${e.dst.name}>${e.serverId}>${String(e.secured)}`}
            data-edge={`${e.src.name}>${e.dst.name}`}
          >
            <td>
              <Link to={{ page: 'workload', namespace: e.src.namespace, name: e.src.name }}>
                {e.src.name}
              </Link>
            </td>
            <td>
              <Link to={{ page: 'workload', namespace: e.dst.namespace, name: e.dst.name }}>
                {e.dst.name}
              </Link>
            </td>
            <td className="id">{shortIdentity(e.clientId) || '-'}</td>
            <td className="id">{shortIdentity(e.serverId) || '-'}</td>
            <td className="num">{formatRps(e.requests / windowSeconds)}</td>
            <td>
              {e.secured ? (
                <span className="tls tls-yes">
                  <Lock /> mTLS
                </span>
              ) : (
                <span className="tls tls-no">
                  <Lock open /> {e.noTlsReason || 'not secured'}
                </span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AuthzTable({ rows }: { rows: readonly AuthzRow[] }) {
  if (rows.length === 0) return <Empty>No authorization decisions in this window.</Empty>;
  return (
    <table className="stat authz">
      <thead>
        <tr>
          <th>Workload</th>
          <th>Server</th>
          <th>Route</th>
          <th>Authorization</th>
          <th className="num">Allowed RPS</th>
          <th className="num">Denied RPS</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.namespace}/${r.deployment}/${r.server}/${r.route}/${r.authorization}`}>
            <td>{r.deployment}</td>
            <td>{r.server || '-'}</td>
            <td>{r.route || '-'}</td>
            <td>{r.authorization || <span className="tls-no">(denied)</span>}</td>
            <td className="num">{formatRps(r.allowedPerSec)}</td>
            <td className={`num ${r.deniedPerSec > 0 ? 'tls-no' : ''}`}>{formatRps(r.deniedPerSec)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
