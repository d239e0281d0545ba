// The entry of each demo workload (`tsmesh demo-app NAME`, started by `tsmesh run`): reads the
// environment once, starts the app on 127.0.0.1:PORT and runs until SIGINT/SIGTERM.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { dependency, readDemoAppConfig, type DemoAppConfig } from './dependency.js';
import { startEmojiService, type DemoServer } from './emoji-service.js';
import { runVoteBot } from './vote-bot.js';
import { startVotingService } from './voting-service.js';
import { startWebService } from './web-service.js';

export const DEMO_NAMESPACE = 'emojivoto';
export const DEMO_APPS = ['web', 'emoji', 'voting', 'vote-bot'] as const;
export type DemoAppName = (typeof DEMO_APPS)[number];

/** The Service names the apps use for each other (Host / :authority). */
export const DemoAuthority = {
  web: `web-svc.${DEMO_NAMESPACE}.svc.cluster.local:80`,
  emoji: `emoji-svc.${DEMO_NAMESPACE}.svc.cluster.local:8080`,
  voting: `voting-svc.${DEMO_NAMESPACE}.svc.cluster.local:8080`,
} as const;

export async function startDemoApp(
  name: string,
  config: DemoAppConfig,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  let server: DemoServer | undefined;
  switch (name) {
    case 'emoji':
      server = await startEmojiService(config.port);
      break;
    case 'voting':
      server = await startVotingService(config.port);
      break;
    case 'web':
      server = await startWebService({
        port: config.port,
        emoji: dependency(config, DemoAuthority.emoji),
        voting: dependency(config, DemoAuthority.voting),
      });
      break;
    case 'vote-bot': {
      log(`vote-bot: voting through ${config.outbound ?? 'the Service name'} for ${DemoAuthority.web}`);
      await runVoteBot({ web: dependency(config, DemoAuthority.web), signal });
      return;
    }
    default:
      throw new MeshError(MeshErrorCode.InvalidArgument, `no demo app ${JSON.stringify(name)}`, {
        hint: `one of ${DEMO_APPS.join(', ')}`,
      });
  }
  log(`${name}: listening on 127.0.0.1:${server.port}`);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
}

/** Runs a demo app in this process until SIGINT or SIGTERM. */
export async function runDemoAppProcess(name: string, log: (line: string) => void): Promise<void> {
  const config = readDemoAppConfig(name, process.env);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await startDemoApp(name, config, controller.signal, log);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
