// HTTP CONNECT proxy on a unix socket, run by `testenv up --cluster` inside the node's network
// namespace. kube-apiserver runs on the host's 127.0.0.1 and reaches the node (kubelet for
// exec/logs/port-forward, admission webhooks, Service ClusterIPs, pod IPs) through its egress
// selector ("cluster" traffic, proxyProtocol HTTPConnect, transport uds) — the way Konnectivity
// works on real clusters. Unix sockets live in the file system, so the socket joins the two
// network namespaces.
//
//   node egress-proxy.mjs SOCKET_PATH ALLOWED_CIDR...
//
// Only targets inside ALLOWED_CIDR (IPv4, e.g. 198.18.0.0/15) are dialled; anything else gets
// 403, so this proxy can never carry traffic to a real network. Plain JavaScript (no build step):
// it runs from the package as shipped.
import { createConnection, createServer, isIPv4 } from 'node:net';
import { rmSync } from 'node:fs';

const [socketPath, ...cidrs] = process.argv.slice(2);
if (!socketPath || cidrs.length === 0) {
  console.error('usage: egress-proxy.mjs SOCKET_PATH ALLOWED_CIDR...');
  process.exit(2);
}

const toInt = (ip) => ip.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
const allowed = cidrs.map((c) => {
  const [ip, bits] = c.split('/');
  if (!isIPv4(ip) || !(Number(bits) >= 0 && Number(bits) <= 32)) {
    console.error(`egress-proxy: ${c} is not an IPv4 CIDR`);
    process.exit(2);
  }
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return { net: (toInt(ip) & mask) >>> 0, mask };
});
const isAllowed = (ip) => isIPv4(ip) && allowed.some((a) => (toInt(ip) & a.mask) >>> 0 === a.net);
const MAX_HEAD = 16 * 1024;

const server = createServer((client) => {
  let head = Buffer.alloc(0);
  client.on('error', () => {});
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > MAX_HEAD) client.destroy();
      return;
    }
    client.off('data', onData);
    client.pause();
    const rest = head.subarray(end + 4);
    const requestLine = head.subarray(0, end).toString('latin1').split('\r\n')[0] ?? '';
    const match = /^CONNECT (\S+):(\d+) HTTP\/1\.[01]$/.exec(requestLine);
    if (!match) {
      client.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const host = match[1];
    const port = Number(match[2]);
    if (!isAllowed(host) || port < 1 || port > 65535) {
      console.error(`egress-proxy: refused CONNECT ${host}:${port} (allowed: ${cidrs.join(', ')})`);
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    let connected = false;
    const upstream = createConnection({ host, port });
    upstream.setNoDelay(true);
    upstream.once('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (rest.length > 0) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', (err) => {
      if (!connected)
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nX-Error: ${err.code ?? 'error'}\r\n\r\n`,
        );
      else client.destroy();
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  };
  client.on('data', onData);
});

rmSync(socketPath, { force: true });
server.listen(socketPath, () => console.error(`egress-proxy: listening on ${socketPath}`));
const stop = () => {
  server.close();
  rmSync(socketPath, { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
