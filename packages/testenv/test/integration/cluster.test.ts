import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildTsmeshImages, clusterUnsupportedReason, startCluster, type Cluster } from '../../src/index.js';
import { sleep } from '../../src/managed-process.js';
import { createEventually } from './cluster-support.js';

// A real one-node cluster: kubelet + containerd + runc + CNI bridge + kube-proxy + CoreDNS in a
// network namespace of its own. Needs root and the Debian packages (CI runs as root and installs them).
const unsupported = await clusterUnsupportedReason();
if (unsupported) console.warn(`cluster tests skipped: ${unsupported}`);

const WEB_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
http.createServer((req, res) => {
  if (req.url === '/ready') {
    const ok = fs.existsSync('/tmp/ready');
    res.writeHead(ok ? 200 : 503).end(ok ? 'ready' : 'not ready');
    return;
  }
  res.end('hello from ' + process.env.HOSTNAME + ' ' + req.url);
}).listen(8080, () => console.log('web listening on 8080'));
`;

describe.skipIf(unsupported !== undefined)('one-node cluster', () => {
  let cluster: Cluster;
  const ns = 'cluster-e2e';
  const kubectl = async (...args: string[]): Promise<string> => (await cluster.kubectl(args)).stdout;
  const kubectlIn = (input: string, ...args: string[]): Promise<unknown> => cluster.kubectl(args, { input });
  const podField = (name: string, jsonpath: string): Promise<string> =>
    kubectl('-n', ns, 'get', 'pod', name, '-o', `jsonpath=${jsonpath}`);
  const readyOf = (name: string): Promise<string> =>
    podField(name, '{.status.conditions[?(@.type=="Ready")].status}');

  const eventually = createEventually({ timeoutMs: 60_000, intervalMs: 250 });

  beforeAll(async () => {
    cluster = await startCluster({ onLog: (l) => process.stderr.write(`${l}\n`) });
    const t = cluster.timings;
    process.stderr.write(
      `cluster timings (ms): ${JSON.stringify(t, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}\n`,
    );
    // Cached binaries: about 20 s. On a fresh machine the first run also builds kubelet, kube-scheduler,
    // kube-proxy and CoreDNS from their Go modules (about 5 min on 2 cores) and the image archives.
  }, 45 * 60_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 120_000);

  test('the node is Ready with its node IP, pod CIDR from 198.18.0.0/16 and cgroup v1 allowed', async () => {
    const node = JSON.parse(await kubectl('get', 'node', cluster.nodeName, '-o', 'json')) as {
      status: {
        addresses: { type: string; address: string }[];
        conditions: { type: string; status: string }[];
      };
    };
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: cluster.nodeIp });
    const dns = JSON.parse(await kubectl('-n', 'kube-system', 'get', 'svc', 'kube-dns', '-o', 'json')) as {
      spec: { clusterIP: string };
    };
    expect(dns.spec.clusterIP).toBe(cluster.addressing.dnsIp);
  });

  test('a pod runs from the node-base image, a readiness probe gates it, a Service routes to it, exec and logs work', async () => {
    await kubectl('create', 'namespace', ns);
    await eventually('default ServiceAccount', async () =>
      (await kubectl('-n', ns, 'get', 'sa', '-o', 'name')).includes('serviceaccount/default'),
    );
    const image = cluster.images.nodeBase.ref;
    const pod = (name: string, labels: Record<string, string>, args: string[], probe: boolean) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'main',
            image,
            imagePullPolicy: 'Never',
            command: ['node'],
            args,
            ports: [{ containerPort: 8080 }],
            ...(probe
              ? {
                  readinessProbe: {
                    httpGet: { path: '/ready', port: 8080 },
                    periodSeconds: 1,
                    failureThreshold: 1,
                  },
                }
              : {}),
          },
        ],
      },
    });
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    };
    const items = [
      pod('web', { app: 'web' }, ['-e', WEB_SERVER], true),
      pod('client', { app: 'client' }, ['-e', 'setInterval(() => {}, 1 << 30)'], false),
      service,
    ];
    await kubectlIn(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), 'apply', '-f', '-');

    // Running but not Ready: the probe answers 503 until /tmp/ready exists.
    await eventually(
      'web Running',
      async () => (await podField('web', '{.status.phase}')) === 'Running' || 'pending',
    );
    await eventually(
      'client Running',
      async () => (await podField('client', '{.status.phase}')) === 'Running' || 'pending',
    );
    const podIp = await podField('web', '{.status.podIP}');
    expect(podIp).toMatch(/^198\.18\.0\.\d+$/);
    await sleep(2_000);
    expect(await readyOf('web')).toBe('False');

    // kubectl logs and exec (apiserver → egress proxy → kubelet → containerd).
    await eventually('web logs', async () =>
      (await kubectl('-n', ns, 'logs', 'web')).includes('web listening on 8080'),
    );
    await kubectl(
      '-n',
      ns,
      'exec',
      'web',
      '--',
      'node',
      '-e',
      "require('fs').writeFileSync('/tmp/ready', '')",
    );
    await eventually('web Ready after the probe passes', async () => (await readyOf('web')) === 'True');

    // The Service through kube-proxy's iptables rules: from the node, and from a pod by DNS name.
    const clusterIp = await kubectl('-n', ns, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}');
    expect(clusterIp).toMatch(/^198\.19\.\d+\.\d+$/);
    await eventually('Service from the node', async () => {
      const r = await cluster.execInNode(
        'curl',
        ['-sS', '--max-time', '3', `http://${clusterIp}/from-node`],
        { allowFailure: true },
      );
      return r.stdout.includes('hello from web /from-node') || r.stderr;
    });
    await eventually('Service by DNS name from another pod', async () => {
      const r = await cluster.kubectl(
        [
          '-n',
          ns,
          'exec',
          'client',
          '--',
          'node',
          '-e',
          `fetch('http://web.${ns}.svc.cluster.local/from-pod').then(r => r.text()).then(t => console.log(t), e => { console.log(String(e.cause ?? e)); })`,
        ],
        { allowFailure: true },
      );
      return r.stdout.includes('hello from web /from-pod') || r.stdout + r.stderr;
    });

    // The probe failing again takes the pod out of the Service's endpoints.
    await kubectl('-n', ns, 'exec', 'web', '--', 'node', '-e', "require('fs').unlinkSync('/tmp/ready')");
    await eventually('web not Ready after the probe fails', async () => (await readyOf('web')) === 'False');
    await eventually('Service without ready endpoints refuses', async () => {
      const r = await cluster.execInNode('curl', ['-sS', '--max-time', '3', `http://${clusterIp}/`], {
        allowFailure: true,
      });
      return r.code !== 0 || r.stdout;
    });
  }, 150_000);

  // `npm test` builds every package before the tests; run alone, build the proxy first.
  const proxyBuilt = existsSync(fileURLToPath(new URL('../../../proxy/dist/main.js', import.meta.url)));
  test.skipIf(!proxyBuilt)(
    'the tsmesh proxy image, built as an OCI archive and imported: linkerd-init sets up iptables as uid 65534, the proxy runs as 2102',
    async () => {
      const out = await mkdtemp(join(tmpdir(), 'tsmesh-cluster-images-'));
      try {
        const images = await buildTsmeshImages({ outDir: out, tag: 'cluster-test', components: ['proxy'] });
        expect(images.proxy?.ref).toBe('ghcr.io/tsmesh/proxy:cluster-test');
        await cluster.importImages([images.proxy!.archive]);
      } finally {
        await rm(out, { recursive: true, force: true });
      }
      // As `tsmesh install` renders linkerd-init (Linkerd's securityContext): uid 65534, no privilege
      // escalation, NET_ADMIN/NET_RAW added, read-only root; then a container that drops ALL.
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'proxy-help', namespace: ns },
        spec: {
          restartPolicy: 'Never',
          initContainers: [
            {
              name: 'linkerd-init',
              image: 'ghcr.io/tsmesh/proxy:cluster-test',
              imagePullPolicy: 'Never',
              command: ['tsmesh-proxy', 'init'],
              args: [
                '--firewall-bin-path',
                'iptables-nft',
                '--firewall-save-bin-path',
                'iptables-nft-save',
                '--ipv6=false',
                '--incoming-proxy-port',
                '4143',
                '--outgoing-proxy-port',
                '4140',
                '--proxy-uid',
                '2102',
              ],
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { add: ['NET_ADMIN', 'NET_RAW'] },
                runAsUser: 65534,
                runAsGroup: 65534,
                runAsNonRoot: true,
                readOnlyRootFilesystem: true,
              },
              volumeMounts: [{ name: 'xtables-lock', mountPath: '/run' }],
            },
          ],
          containers: [
            {
              name: 'proxy',
              image: 'ghcr.io/tsmesh/proxy:cluster-test',
              imagePullPolicy: 'Never',
              command: ['sh', '-c', 'node -e "console.log(process.getuid())"; exec tsmesh-proxy --help'],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
          volumes: [{ name: 'xtables-lock', emptyDir: {} }],
        },
      };
      await kubectlIn(JSON.stringify(pod), 'apply', '-f', '-');
      await eventually('proxy-help Succeeded', async () => {
        const phase = await podField('proxy-help', '{.status.phase}');
        if (phase === 'Failed') throw new Error(await kubectl('-n', ns, 'logs', 'proxy-help'));
        return phase === 'Succeeded' || phase;
      });
      const logs = await kubectl('-n', ns, 'logs', 'proxy-help');
      expect(logs).toMatch(/^2102\n/);
      expect(logs).toMatch(/Usage: tsmesh-proxy/);
      const init = await kubectl('-n', ns, 'logs', 'proxy-help', '-c', 'linkerd-init');
      expect(init).toMatch(/PROXY_INIT_REDIRECT -p tcp .*REDIRECT --to-ports 4143/);
    },
    180_000,
  );

  test('memory of the node components (RSS, MB)', async () => {
    const rss: Record<string, number> = {};
    const pids = { ...cluster.pids, ...cluster.controlPlane.pids } as Record<string, number | undefined>;
    for (const [name, pid] of Object.entries(pids)) {
      if (pid === undefined) continue;
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      rss[name] = Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    }
    process.stderr.write(`cluster RSS (MB): ${JSON.stringify(rss)}\n`);
    expect(rss.kubelet).toBeGreaterThan(0);
    expect((await stat(cluster.kubeconfigPath)).isFile()).toBe(true);
  });

  test('stop() removes what the cluster made: processes, containers, mounts, cgroups, netns, files', async () => {
    const { dir, netns } = cluster;
    const pids = Object.values({ ...cluster.pids, ...cluster.controlPlane.pids }) as number[];
    const containerPids = (
      await cluster.execInNode('sh', [
        '-c',
        `cat $(find /sys/fs/cgroup/pids/${netns} -name cgroup.procs) 2>/dev/null || true`,
      ])
    ).stdout
      .split('\n')
      .filter(Boolean)
      .map(Number);
    expect(containerPids.length).toBeGreaterThan(0); // CoreDNS, web, client
    const t = performance.now();
    await cluster.stop();
    process.stderr.write(`cluster stop: ${Math.round(performance.now() - t)} ms\n`);
    const alive = (pid: number): boolean => {
      try {
        return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    expect(pids.filter(alive)).toEqual([]);
    expect(containerPids.filter(alive)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
    expect(existsSync(`/run/netns/${netns}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    for (const h of ['cpu', 'memory', 'pids', 'unified']) {
      expect(existsSync(`/sys/fs/cgroup/${h}/${netns}`)).toBe(false);
    }
  });
});
