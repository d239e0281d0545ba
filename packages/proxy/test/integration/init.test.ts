// `tsmesh-proxy init` against the real iptables (legacy and nft) inside network namespaces this
// test creates: the rules linkerd-init writes land in the nat table, a second run changes nothing,
// --dry-run changes nothing, and with the rules in place a pod's inbound and outbound traffic goes
// through the proxy (which runs as the skipped uid 2102 and so is not redirected itself).
// Root only (ip netns add, iptables); skipped with the reason otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { configureFirewall, parseInitArgs } from '../../src/init/index.js';
import { createNetnsLab, hasBinary, netnsUnavailableReason, waitFor, type NetnsLab } from './netns-lab.js';

const bin = fileURLToPath(new URL('../../bin/tsmesh-proxy.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/main.js', import.meta.url)));
const unavailable = netnsUnavailableReason();
const modes = (['legacy', 'nft'] as const).filter(
  (m) => hasBinary(`iptables-${m}`) && hasBinary(`ip6tables-${m}`),
);
/** A /24 in 198.18.0.0/15 per test process, so parallel runs do not share addresses. */
const net = `198.18.${100 + (process.pid % 150)}`;

let lab: NetnsLab | undefined;
afterEach(async () => {
  await lab?.dispose();
  lab = undefined;
});

/** iptables-save output without its timestamped comment lines and packet counters. */
const rulesOf = (save: string) =>
  save
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, ''))
    .join('\n');

describe.skipIf(unavailable !== undefined || modes.length === 0)(
  `tsmesh-proxy init with the real iptables (${unavailable ?? 'root, own netns'})`,
  () => {
    it.each(modes)(
      '%s: writes the linkerd-init rules for IPv4 and IPv6; a second run changes nothing',
      async (mode) => {
        lab = createNetnsLab();
        const ns = lab.add('i');
        const options = parseInitArgs([
          '--iptables-mode',
          mode,
          '--netns',
          ns.path,
          '--inbound-ports-to-ignore',
          '4190,4191',
          '--outbound-ports-to-ignore',
          '4567,4568',
          '--subnets-to-ignore',
          '198.18.9.0/24',
        ]);
        const first = await configureFirewall(options, { runId: '1' });
        expect(first.map((r) => r.outcome)).toEqual(['applied', 'applied']);
        const save4 = lab.run(ns, `iptables-${mode}-save`, ['-t', 'nat']).stdout;
        const save6 = lab.run(ns, `ip6tables-${mode}-save`, ['-t', 'nat']).stdout;
        for (const rule of [
          '-A PREROUTING -m comment --comment "proxy-init/install-proxy-init-prerouting/1" -j PROXY_INIT_REDIRECT',
          '-A OUTPUT -m comment --comment "proxy-init/install-proxy-init-output/1" -j PROXY_INIT_OUTPUT',
          '-A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -m comment --comment "proxy-init/ignore-proxy-user-id/1" -j RETURN',
          '-A PROXY_INIT_OUTPUT -o lo -m comment --comment "proxy-init/ignore-loopback/1" -j RETURN',
          '-A PROXY_INIT_OUTPUT -p tcp -m multiport --dports 4567,4568 -m comment --comment "proxy-init/ignore-port-4567,4568/1" -j RETURN',
          '-A PROXY_INIT_OUTPUT -p tcp -m comment --comment "proxy-init/redirect-all-outgoing-to-proxy-port/1" -j REDIRECT --to-ports 4140',
          '-A PROXY_INIT_REDIRECT -p tcp -m multiport --dports 4190,4191 -m comment --comment "proxy-init/ignore-port-4190,4191/1" -j RETURN',
          '-A PROXY_INIT_REDIRECT -p tcp -m comment --comment "proxy-init/redirect-all-incoming-to-proxy-port/1" -j REDIRECT --to-ports 4143',
        ]) {
          expect(save4).toContain(rule);
          expect(save6).toContain(rule);
        }
        expect(save4).toContain(
          '-A PROXY_INIT_REDIRECT -s 198.18.9.0/24 -m comment --comment "proxy-init/ignore-subnet-198.18.9.0/24/1" -j RETURN',
        );
        expect(save6).not.toContain('198.18.9.0/24');

        const second = await configureFirewall(options, { runId: '2' });
        expect(second.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
        expect(rulesOf(lab.run(ns, `iptables-${mode}-save`, ['-t', 'nat']).stdout)).toBe(rulesOf(save4));
        expect(rulesOf(lab.run(ns, `ip6tables-${mode}-save`, ['-t', 'nat']).stdout)).toBe(rulesOf(save6));
      },
    );

    it.skipIf(!built)('tsmesh-proxy init --dry-run prints the rules and applies nothing (built dist)', () => {
      lab = createNetnsLab();
      const ns = lab.add('d');
      const res = spawnSync(
        process.execPath,
        [bin, 'init', '--dry-run', '--ipv6=false', '--iptables-mode', modes[0] as string, '--netns', ns.path],
        {
          encoding: 'utf8',
        },
      );
      expect(res.status).toBe(0);
      const printed = res.stdout.trim().split('\n');
      expect(printed).toHaveLength(8);
      expect(printed[0]).toMatch(
        new RegExp(`^nsenter --net=${ns.path} -- iptables-${modes[0]} -t nat -N PROXY_INIT_REDIRECT`),
      );
      const save = lab.run(ns, `iptables-${modes[0]}-save`, ['-t', 'nat']).stdout;
      expect(save).not.toContain('PROXY_INIT');
    });

    it.skipIf(!built)(
      "with the rules in place, the pod's inbound and outbound connections go through the proxy (built dist)",
      async () => {
        lab = createNetnsLab();
        const pod = lab.add('p');
        const peer = lab.add('q');
        lab.link(pod, `${net}.1/24`, peer, `${net}.2/24`);
        const init = spawnSync(
          process.execPath,
          [
            bin,
            'init',
            '--netns',
            pod.path,
            '--iptables-mode',
            modes.at(-1) as string,
            '--inbound-ports-to-ignore',
            '4190,4191',
          ],
          { encoding: 'utf8' },
        );
        expect(init.status, init.stderr).toBe(0);

        const node = process.execPath;
        lab.start(pod, node, [
          '-e',
          `require('http').createServer((q,s)=>s.end('app saw '+q.url)).listen(8080,'127.0.0.1')`,
        ]);
        lab.start(peer, node, [
          '-e',
          `require('http').createServer((q,s)=>s.end('peer saw '+q.url+' from '+q.socket.remoteAddress)).listen(9090,'${net}.2')`,
        ]);
        const proxy = lab.start(pod, node, [bin], {
          uid: 2102,
          env: {
            ...process.env,
            LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '0.0.0.0:4143',
            LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:4140',
            LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '0.0.0.0:4191',
            LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '100ms',
          },
        });
        const curl = (ns: typeof pod, url: string) => lab!.run(ns, 'curl', ['-sS', '--max-time', '5', url]);
        await waitFor('proxy ready', 15_000, () =>
          curl(peer, `http://${net}.1:4191/ready`).status === 0 ? true : undefined,
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n${proxy.output()}`);
        });
        await waitFor('apps up', 10_000, () =>
          curl(pod, `http://127.0.0.1:8080/`).status === 0 ? true : undefined,
        );

        // Inbound: the peer dials the pod's app port; PREROUTING sends it to the proxy's 4143.
        expect(curl(peer, `http://${net}.1:8080/in`).stdout).toBe('app saw /in');
        // Outbound: the app (root, not uid 2102) dials the peer; OUTPUT sends it to 4140, and the
        // proxy's own connection (uid 2102) leaves the pod.
        expect(curl(pod, `http://${net}.2:9090/out`).stdout).toBe(`peer saw /out from ${net}.1`);

        const metrics = curl(peer, `http://${net}.1:4191/metrics`).stdout;
        expect(metrics).toMatch(
          new RegExp(`request_total\\{[^}]*direction="inbound"[^}]*target_addr="${net}.1:8080"`),
        );
        expect(metrics).toMatch(
          new RegExp(`request_total\\{[^}]*direction="outbound"[^}]*target_addr="${net}.2:9090"`),
        );
      },
    );
  },
);

describe.skipIf(!built)('tsmesh-proxy init command line (built dist)', () => {
  it('exits 2 naming the flag on a bad value, and prints nothing to apply', () => {
    const res = spawnSync(process.execPath, [bin, 'init', '--dry-run', '--proxy-uid', 'abc'], {
      encoding: 'utf8',
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/tsmesh-proxy init: .*--proxy-uid.*an integer/);
    expect(res.stdout).toBe('');
  });
});

describe.skipIf(unavailable !== undefined || modes.length === 0 || !built)(
  `tsmesh-proxy init, IPv6 (${unavailable ?? (built ? 'root, own netns' : 'needs built dist')})`,
  () => {
    it('ip6tables rules send IPv6 inbound and outbound connections through a dual-stack proxy', async () => {
      lab = createNetnsLab();
      const pod = lab.add('s');
      const peer = lab.add('t');
      const v6 = `fd00:198:18:${(process.pid % 0xffff).toString(16)}`;
      lab.link(pod, [`${net}.1/24`, `${v6}::1/64`], peer, [`${net}.2/24`, `${v6}::2/64`]);
      const init = spawnSync(
        process.execPath,
        [bin, 'init', '--netns', pod.path, '--iptables-mode', modes[0] as string],
        {
          encoding: 'utf8',
        },
      );
      expect(init.status, init.stderr).toBe(0);
      const node = process.execPath;
      lab.start(pod, node, [
        '-e',
        `require('http').createServer((q,s)=>s.end('app saw '+q.url)).listen(8080,'::1')`,
      ]);
      lab.start(peer, node, [
        '-e',
        `require('http').createServer((q,s)=>s.end('peer saw '+q.url+' from '+q.socket.remoteAddress)).listen(9090,'${v6}::2')`,
      ]);
      const proxy = lab.start(pod, node, [bin], {
        uid: 2102,
        env: {
          ...process.env,
          LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '[::]:4143',
          LINKERD2_PROXY_OUTBOUND_LISTEN_ADDRS: '127.0.0.1:4140,[::1]:4140',
          LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:4191',
          LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '100ms',
        },
      });
      const curl = (ns: typeof pod, url: string) => lab!.run(ns, 'curl', ['-gsS', '--max-time', '5', url]);
      await waitFor('proxy ready', 15_000, () =>
        curl(pod, 'http://127.0.0.1:4191/ready').status === 0 ? true : undefined,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${proxy.output()}`);
      });
      await waitFor('apps up', 10_000, () =>
        curl(pod, 'http://[::1]:8080/').status === 0 ? true : undefined,
      );

      expect(curl(peer, `http://[${v6}::1]:8080/in6`).stdout).toBe('app saw /in6');
      expect(curl(pod, `http://[${v6}::2]:9090/out6`).stdout).toBe(`peer saw /out6 from ${v6}::1`);
      const metrics = curl(pod, 'http://127.0.0.1:4191/metrics').stdout;
      expect(metrics).toMatch(
        new RegExp(`request_total\\{[^}]*direction="inbound"[^}]*target_addr="\\[${v6}::1\\]:8080"`),
      );
      expect(metrics).toMatch(
        new RegExp(`request_total\\{[^}]*direction="outbound"[^}]*target_addr="\\[${v6}::2\\]:9090"`),
      );
    });
  },
);
