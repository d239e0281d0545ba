// How numbers are shown: Linkerd's dashboard conventions (success rate as a percentage with a
// coloured status, RPS with one or two decimals, latency in ms or s, "-" for no data).

export type Health = 'good' | 'warning' | 'bad' | 'none';

export function formatPercent(rate: number | null | undefined): string {
  if (rate === undefined || rate === null || Number.isNaN(rate)) return '-';
  return `${(rate * 100).toFixed(rate === 1 || rate === 0 ? 0 : 2)}%`;
}

/** Success-rate colour: ≥ 95 % good, ≥ 90 % warning, below bad (as Linkerd's dashboard). */
export function healthOf(rate: number | null | undefined): Health {
  if (rate === undefined || rate === null || Number.isNaN(rate)) return 'none';
  if (rate >= 0.95) return 'good';
  if (rate >= 0.9) return 'warning';
  return 'bad';
}

export function formatRps(rps: number | null | undefined): string {
  if (rps === undefined || rps === null || Number.isNaN(rps)) return '-';
  if (rps === 0) return '0';
  if (rps < 0.01) return '< 0.01';
  return rps >= 100 ? rps.toFixed(0) : rps.toFixed(2);
}

export function formatLatency(ms: number | null | undefined): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '-';
  if (ms === 0) return '0 ms';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(ms < 1 ? 2 : 1)} ms`;
}

export function formatBytes(perSec: number): string {
  if (!(perSec > 0)) return '0 B/s';
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  const i = Math.min(units.length - 1, Math.floor(Math.log(perSec) / Math.log(1024)));
  return `${(perSec / 1024 ** i).toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** "2/3" meshed pods (or just the meshed count when the total is unknown). */
export const formatMeshed = (meshed: number, total: number | undefined): string =>
  total === undefined ? String(meshed) : `${meshed}/${total}`;

/** The short name of a mesh identity: `web.emojivoto` for `web.emojivoto.serviceaccount.identity.…`. */
export function shortIdentity(id: string): string {
  const i = id.indexOf('.serviceaccount.identity.');
  return i > 0 ? id.slice(0, i) : id;
}
