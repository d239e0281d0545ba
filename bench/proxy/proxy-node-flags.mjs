// The node flags bin/tsmesh-proxy.js runs the proxy with (its `env -S node …` first line), read from
// the bin itself: the benches run their proxy children with them, and a copy of the list here would
// drift from the one that ships.
import { readFileSync } from 'node:fs';

const bin = new URL('../../packages/proxy/bin/tsmesh-proxy.js', import.meta.url);
const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0];
const m = /^#!\/usr\/bin\/env -S node((?: -\S+)*)$/.exec(shebang);
if (!m) throw new Error(`bench: cannot read node flags from the first line of ${bin.pathname}: ${shebang}`);

/** The bin's node flags as one string, e.g. `--max-semi-space-size=4 --heap-growing-percent=25`. */
export const PROXY_BIN_NODE_FLAGS = m[1].trim();
