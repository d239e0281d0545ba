import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isOriginalDstAvailable, isSelfTarget, readOriginalDst } from './original-dst.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function acceptedPair(host: string): Promise<{ accepted: Socket; client: Socket }> {
  const server = createServer();
  servers.push(server);
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(port, host);
  const [socket] = await accepted;
  return { accepted: socket, client };
}

describe.skipIf(process.platform !== 'linux')('readOriginalDst', () => {
  it('the addon is built by the package build step', () => {
    expect(isOriginalDstAvailable()).toBe(true);
  });

  it.each(['127.0.0.1', '::1'])(
    'is undefined for a connection that was not redirected (%s)',
    async (host) => {
      const { accepted, client } = await acceptedPair(host);
      expect(readOriginalDst(accepted)).toBeUndefined();
      expect(isSelfTarget(readOriginalDst(accepted), accepted)).toBe(true);
      client.destroy();
      accepted.destroy();
    },
  );
});

// A REDIRECT rule needs root and a network namespace of its own; the child process makes both
// (unshare -n), so nothing outside it changes.
const rootWithIptables =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  spawnSync('sh', ['-c', 'command -v iptables && command -v ip6tables && command -v unshare']).status === 0;

const CHILD = `
import { createRequire } from 'node:module';
const addon = createRequire(import.meta.url)(process.argv[1]);
const readOriginalDst = (socket) => addon.originalDst(socket._handle.fd);
import { execFileSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
const sh = (...a) => execFileSync(a[0], a.slice(1), { stdio: 'pipe' });
sh('ip', 'link', 'set', 'lo', 'up');
sh('ip', 'addr', 'add', '198.18.0.1/32', 'dev', 'lo');
sh('iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', '198.18.0.1', '--dport', '80', '-j', 'REDIRECT', '--to-ports', '15001');
sh('ip6tables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', '::1', '--dport', '81', '-j', 'REDIRECT', '--to-ports', '15002');
const results = [];
for (const [listenHost, port, dialHost, dialPort] of [['0.0.0.0', 15001, '198.18.0.1', 80], ['::1', 15002, '::1', 81]]) {
  const server = createServer();
  server.listen(port, listenHost);
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = connect(dialPort, dialHost);
  const [socket] = await accepted;
  results.push(readOriginalDst(socket));
  client.destroy(); socket.destroy(); server.close();
}
console.log(JSON.stringify(results));
`;

describe.skipIf(!rootWithIptables)('readOriginalDst behind iptables REDIRECT (root, own netns)', () => {
  it('the addon returns the dialled IPv4 and IPv6 address and port', () => {
    const res = spawnSync(
      'unshare',
      [
        '-n',
        process.execPath,
        '--input-type=module',
        '-e',
        CHILD,
        fileURLToPath(new URL('../../build/Release/original_dst.node', import.meta.url)),
      ],
      { encoding: 'utf8', timeout: 15_000 },
    );
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual([
      { family: 4, address: '198.18.0.1', port: 80 },
      { family: 6, address: '::1', port: 81 },
    ]);
  });
});
