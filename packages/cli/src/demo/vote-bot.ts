// vote-bot: traffic for the demo. Calls web through its own proxy at a bounded rate: the
// emoji list now and then, and votes — every tenth for the emoji whose vote always fails.
import { Agent, request } from 'node:http';
import { sleep } from '@tsmesh/kube';
import type { Dependency } from './dependency.js';
import { EMOJIS, FAILING_SHORTCODE } from './emoji-data.js';

export interface VoteBotOptions {
  readonly web: Dependency;
  /** Requests a second; default 4, at most 50. */
  readonly ratePerSecond?: number;
  readonly signal: AbortSignal;
  readonly onResult?: (path: string, status: number | undefined) => void;
}

function get(dep: Dependency, authority: string, path: string, agent: Agent): Promise<number | undefined> {
  const [host, port] = [
    dep.dial.slice(0, dep.dial.lastIndexOf(':')),
    Number(dep.dial.slice(dep.dial.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve) => {
    const req = request({ host, port, path, agent, headers: { host: authority }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

export async function runVoteBot(options: VoteBotOptions): Promise<void> {
  const rate = Math.min(50, Math.max(0.1, options.ratePerSecond ?? 4));
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const others = EMOJIS.filter((e) => e.shortcode !== FAILING_SHORTCODE);
  let n = 0;
  try {
    while (!options.signal.aborted) {
      n++;
      const path =
        n % 7 === 0
          ? '/api/list'
          : `/api/vote?choice=${encodeURIComponent(
              n % 10 === 0 ? FAILING_SHORTCODE : others[Math.floor(Math.random() * others.length)]!.shortcode,
            )}`;
      const authority = await options.web.authority().catch(() => undefined);
      const status = authority === undefined ? undefined : await get(options.web, authority, path, agent);
      options.onResult?.(path, status);
      await sleep(1000 / rate, options.signal);
    }
  } finally {
    agent.destroy();
  }
}
