// Transparent mode: inside a fresh network namespace (unshare -n, root), an iptables REDIRECT sends
// a client's connection for 198.18.0.1:8080 to the built proxy's inbound port; the proxy reads the
// original destination with SO_ORIGINAL_DST and forwards to the app on localhost at port 8080.
// Skipped without root, iptables or a built dist/ (say so in the skip reason).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/tsmesh-proxy.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/main.js', import.meta.url)));
const rootWithIptables =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  spawnSync('sh', ['-c', 'command -v iptables && command -v unshare && command -v curl']).status === 0;

const SCRIPT = `
set -e
ip link set lo up
ip addr add 198.18.0.1/32 dev lo
iptables -t nat -A OUTPUT -p tcp -d 198.18.0.1 --dport 8080 -j REDIRECT --to-ports 4143
"$NODE" -e "require('http').createServer((q,s)=>s.end('app saw '+q.url+' from proxy\\\\n')).listen(8080,'127.0.0.1')" &
APP=$!
LINKERD2_PROXY_INBOUND_LISTEN_ADDR=0.0.0.0:4143 LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR=127.0.0.1:4140 \\
LINKERD2_PROXY_ADMIN_LISTEN_ADDR=127.0.0.1:4191 LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD=100ms "$NODE" "$BIN" 2>/dev/null &
PROXY=$!
for i in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:4191/ready && break; sleep 0.1; done
curl -sS --max-time 5 http://198.18.0.1:8080/hello
curl -sS --max-time 5 http://127.0.0.1:4191/metrics | grep '^request_total' | grep -o 'target_addr="[^"]*"'
kill $PROXY $APP
wait $PROXY || true
`;

describe.skipIf(!rootWithIptables || !built)(
  'transparent inbound (root, own netns, iptables REDIRECT, built dist)',
  () => {
    it('forwards a redirected connection to the app at its original port', () => {
      const res = spawnSync('unshare', ['-n', 'sh', '-c', SCRIPT], {
        encoding: 'utf8',
        timeout: 20_000,
        env: { ...process.env, NODE: process.execPath, BIN: bin },
      });
      expect(res.stderr).toBe('');
      expect(res.stdout).toBe('app saw /hello from proxy\ntarget_addr="198.18.0.1:8080"\n');
    });
  },
);
