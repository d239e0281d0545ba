// viz install runs `tsmesh viz metrics-api` and `tsmesh viz web` (the CLI image) with /live and
// /ready probes on their admin ports; the commands take exactly the flags rendered and refuse bad
// ones with the command, the flag and a hint. (The processes themselves are run against a real
// Prometheus in test/integration/viz-in-cluster.test.ts.)
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../install.test-support.js';
import { defaultEnforcedHost, serveUntilSignalled } from './in-cluster-servers.js';
import { DEFAULT_VIZ_VALUES, vizManifests } from './viz-manifests.js';

interface Container {
  image: string;
  command?: string[];
  args?: string[];
  ports: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
}

const containerOf = (objects: Record<string, unknown>[], name: string): Container => {
  const d = objects.find(
    (o) => o.kind === 'Deployment' && (o.metadata as { name: string }).name === name,
  ) as { spec: { template: { spec: { containers: Container[] } } } };
  return d.spec.template.spec.containers[0]!;
};

describe('viz install runs viz metrics-api and viz web', () => {
  it('renders the commands, the CLI image and the probes on the admin ports', () => {
    const objects = vizManifests({ ...DEFAULT_VIZ_VALUES });
    const api = containerOf(objects, 'metrics-api');
    expect(api.image).toBe(`${DEFAULT_VIZ_VALUES.imageRegistry}/cli:${DEFAULT_VIZ_VALUES.imageTag}`);
    expect(api.command).toEqual([
      'tsmesh',
      'viz',
      'metrics-api',
      '--addr=0.0.0.0:8085',
      '--admin-addr=0.0.0.0:9995',
      '--prometheus-url=http://prometheus.linkerd-viz.svc.cluster.local:9090',
    ]);
    const web = containerOf(objects, 'web');
    expect(web.command).toEqual([
      'tsmesh',
      'viz',
      'web',
      '--addr=0.0.0.0:8084',
      '--admin-addr=0.0.0.0:9994',
      '--prometheus-url=http://prometheus.linkerd-viz.svc.cluster.local:9090',
      `--enforced-host=${defaultEnforcedHost('linkerd-viz', 'cluster.local')}`,
    ]);
    for (const [c, admin] of [
      [api, 9995],
      [web, 9994],
    ] as const) {
      expect(c.ports).toContainEqual({ name: 'admin-http', containerPort: admin });
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/live', port: 'admin-http' });
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/ready', port: 'admin-http' });
    }
  });

  it('uses the external Prometheus and the given host expression', async () => {
    const r = await runCli([
      'viz',
      'install',
      '--set',
      'prometheusUrl=http://prom.monitoring.svc:9090',
      '--set',
      'enforcedHostRegexp=^dash\\.example\\.org$',
      '-n',
      'viz2',
    ]);
    expect(r.exitCode, r.err).toBe(0);
    const objects = parseAllDocuments(r.out).map((d) => d.toJS() as Record<string, unknown>);
    expect(containerOf(objects, 'metrics-api').command).toContain(
      '--prometheus-url=http://prom.monitoring.svc:9090',
    );
    expect(containerOf(objects, 'web').command).toContain('--enforced-host=^dash\\.example\\.org$');
  });

  it('the default host expression accepts the web Service names and loopback only', () => {
    const re = new RegExp(defaultEnforcedHost('linkerd-viz', 'cluster.local'));
    for (const ok of [
      'web.linkerd-viz.svc.cluster.local:8084',
      'web.linkerd-viz.svc',
      'localhost:50750',
      '127.0.0.1',
      '[::1]:8084',
    ])
      expect(re.test(ok), ok).toBe(true);
    for (const bad of [
      'evil.example',
      'web.linkerd-viz.svcXcluster.local',
      'web.other.svc',
      'localhost.evil',
    ])
      expect(re.test(bad), bad).toBe(false);
  });

  it('refuse bad flags with the command, the flag and a hint', async () => {
    const cases: [string[], string][] = [
      [['viz', 'metrics-api', '--addr', 'nowhere'], 'viz metrics-api: --addr: bad address "nowhere"'],
      [
        ['viz', 'metrics-api', '--addr', '127.0.0.1:0'],
        'viz metrics-api: --prometheus-url: no Prometheus URL',
      ],
      [
        ['viz', 'metrics-api', '--addr', '127.0.0.1:0', '--prometheus-url', 'not a url'],
        'bad Prometheus URL "not a url"',
      ],
      [
        ['viz', 'web', '--admin-addr', ':x', '--prometheus-url', 'http://127.0.0.1:1'],
        '--admin-addr: bad address',
      ],
      [['viz', 'web', '--prometheus-url', 'http://127.0.0.1:1', '--enforced-host', '('], '--enforced-host'],
      [
        ['viz', 'web', '--prometheus-url', 'http://127.0.0.1:1', '-t', '0s'],
        '--time-window: bad time window',
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toContain(message);
    }
  });
});

describe('serveUntilSignalled', () => {
  it('serves until SIGTERM, closes what it started and removes its signal handlers', async () => {
    const before = [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
    const termBefore = process.listeners('SIGTERM');
    let closed = 0;
    let served: AbortSignal | undefined;
    const done = serveUntilSignalled(async (signal) => {
      served = signal;
      return async () => void closed++;
    });
    await new Promise((r) => setImmediate(r));
    expect(served?.aborted).toBe(false);
    expect(closed).toBe(0);
    // Only the handlers it added (process.emit would run the test runner's too).
    const added = process.listeners('SIGTERM').filter((l) => !termBefore.includes(l));
    expect(added).toHaveLength(1);
    for (const l of added) l('SIGTERM');
    await done;
    expect(served?.aborted).toBe(true);
    expect(closed).toBe(1);
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before);
  });

  it('removes its signal handlers when start fails', async () => {
    const before = [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
    await expect(serveUntilSignalled(() => Promise.reject(new Error('cannot listen')))).rejects.toThrow(
      'cannot listen',
    );
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before);
  });
});
