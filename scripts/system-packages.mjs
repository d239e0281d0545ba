// Debian packages the steps need, installed with apt-get when a command is missing.
// Each entry: the command (or file) that proves the package is there, and the package that provides it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDS = {
  build: [],
  test: [
    { command: 'protoc', pkg: 'protobuf-compiler' }, // independent encoder for the proto golden tests
    // protoc's well-known types (google/protobuf/*.proto): only a Recommends of protobuf-compiler,
    // which --no-install-recommends leaves out.
    { file: '/usr/include/google/protobuf/timestamp.proto', pkg: 'libprotobuf-dev' },
    { command: 'openssl', pkg: 'openssl' },
    { command: 'curl', pkg: 'curl' },
    { command: 'h2load', pkg: 'nghttp2-client' }, // HTTP/2 client for the proxy's tests
    { command: 'iptables', pkg: 'iptables' }, // SO_ORIGINAL_DST test behind a REDIRECT rule (root)
    { command: 'haproxy', pkg: 'haproxy' }, // the baseline proxy pair of bench/proxy
    { command: 'wrk', pkg: 'wrk' }, // HTTP/1.1 load generator of bench/proxy
    { command: 'prometheus', pkg: 'prometheus' }, // the real Prometheus of viz's metrics tests
    { command: 'buildah', pkg: 'buildah' }, // the daemonless proxy image build (images/build-proxy-image.sh)
    { command: 'chromium', pkg: 'chromium' }, // the real browser of viz's dashboard test (driven by playwright-core)
    // testenv's one-node cluster (`testenv up --cluster`, packages/testenv/test/integration/cluster.test.ts)
    { command: 'containerd', pkg: 'containerd' },
    { command: 'runc', pkg: 'runc' },
    { file: '/usr/lib/cni/bridge', pkg: 'containernetworking-plugins' },
    { command: 'socat', pkg: 'socat' }, // relays the host's apiserver into the node's network namespace
    { command: 'conntrack', pkg: 'conntrack' }, // kube-proxy clears UDP conntrack entries with it
    { command: 'setcap', pkg: 'libcap2-bin' }, // file capabilities in the proxy image (images/build-tsmesh-images.sh)
    { command: 'tshark', pkg: 'tshark' }, // proves TLS on the wire between netns workloads (cli local-netns test)
  ],
};

const has = (need) =>
  need.file
    ? existsSync(need.file)
    : spawnSync('sh', ['-c', `command -v ${need.command}`], { stdio: 'ignore' }).status === 0;

export function ensureSystemPackages(step) {
  const missing = (NEEDS[step] ?? []).filter((n) => !has(n)).map((n) => n.pkg);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = isRoot ? [] : ['sudo', '-n'];
  console.log(`\n▶ installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptGet = (args) => {
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    return spawnSync(cmd, rest, { stdio: 'inherit', env }).status === 0;
  };
  if (!aptGet(['install', '-y', '--no-install-recommends', ...missing])) {
    // The package lists may be missing or stale on a fresh machine.
    if (!aptGet(['update']) || !aptGet(['install', '-y', '--no-install-recommends', ...missing])) {
      console.error(`✖ could not install ${missing.join(' ')}; install them with apt-get and run again`);
      process.exit(1);
    }
  }
}
