// The dashboard's frame: a sidebar (the mesh's namespaces, the source the numbers come from) and
// the page of the current route.
import { query, usePolled, type Meta, type Rows, type StatRow } from './api.js';
import { useRoute } from './router.js';
import { NamespacePage, Overview, WorkloadPage } from './views/pages.js';
import { Link, SuccessRate } from './views/tables.js';

export function App() {
  const route = useRoute();
  const meta = usePolled<Meta>('/api/meta');
  const namespaces = usePolled<Rows<StatRow>>(query('/api/stat', { resource: 'namespace' }));
  const m = meta.data;
  return (
    <div className="layout">
      <nav className="sidebar">
        <div className="brand">
          <Link to={{ page: 'overview' }}>
            <span className="logo">◆</span> tsmesh
          </Link>
        </div>
        <ul>
          <li className={route.page === 'overview' ? 'current' : ''}>
            <Link to={{ page: 'overview' }}>Overview</Link>
          </li>
        </ul>
        <h3>Namespaces</h3>
        <ul>
          {(namespaces.data?.rows ?? []).map((n) => (
            <li
              key={n.name}
              className={route.page !== 'overview' && route.namespace === n.name ? 'current' : ''}
            >
              <Link to={{ page: 'namespace', namespace: n.name }}>{n.name}</Link>
              <SuccessRate rate={n.successRate} />
            </li>
          ))}
        </ul>
        <footer>
          {m ? (
            <>
              <div>{m.mode === 'prometheus' ? 'Prometheus' : 'direct scrapes of the proxies'}</div>
              <div>window {m.windowSeconds}s</div>
              {m.problems.length > 0 && (
                <div className="error" title={m.problems.map((p) => `${p.url}: ${p.error}`).join('\n')}>
                  {m.problems.length} target(s) not scraped
                </div>
              )}
            </>
          ) : (
            meta.error && <div className="error">server unreachable</div>
          )}
        </footer>
      </nav>
      <main>
        {route.page === 'overview' && <Overview />}
        {route.page === 'namespace' && <NamespacePage namespace={route.namespace} meta={m} />}
        {route.page === 'workload' && <WorkloadPage namespace={route.namespace} name={route.name} meta={m} />}
      </main>
    </div>
  );
}
