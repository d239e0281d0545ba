// A tiny path router: the page's location as a route, links that push history entries. Paths:
//   /                                   overview (namespaces, every workload)
//   /namespaces/NS                      a namespace: workloads, topology, authorization
//   /namespaces/NS/deployments/NAME     a workload: charts, routes, edges, top and tap
import { useCallback, useEffect, useState, type MouseEvent } from 'react';

export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'namespace'; readonly namespace: string }
  | { readonly page: 'workload'; readonly namespace: string; readonly name: string };

export function parseRoute(pathname: string): Route {
  const parts = pathname
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  if (parts[0] === 'namespaces' && parts[1]) {
    if (parts[2] === 'deployments' && parts[3])
      return { page: 'workload', namespace: parts[1], name: parts[3] };
    return { page: 'namespace', namespace: parts[1] };
  }
  return { page: 'overview' };
}

export function pathOf(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '/';
    case 'namespace':
      return `/namespaces/${encodeURIComponent(route.namespace)}`;
    case 'workload':
      return `/namespaces/${encodeURIComponent(route.namespace)}/deployments/${encodeURIComponent(route.name)}`;
  }
}

const NAVIGATE = 'tsmesh:navigate';

export function navigate(path: string): void {
  window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATE));
  window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE, update);
    };
  }, []);
  return route;
}

/** An onClick for <a href>: client-side navigation unless a modifier asks for a new tab. */
export function useLinkClick(): (e: MouseEvent<HTMLAnchorElement>) => void {
  return useCallback((e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(e.currentTarget.getAttribute('href') ?? '/');
  }, []);
}
