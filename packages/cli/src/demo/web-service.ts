// web: the HTTP front end. Serves a page and a small JSON API; every API call goes to the emoji
// and voting gRPC services through this workload's proxy.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { credentials, type Client } from '@grpc/grpc-js';
import type { Dependency } from './dependency.js';
import type { Emoji } from './emoji-data.js';
import type { DemoServer } from './emoji-service.js';
import { EmojiClient, unary, VotingClient } from './grpc-json.js';
import { WEB_PAGE } from './web-page.js';

type ClientCtor = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options: object,
) => Client;

/** One grpc-js client per authority (the authority changes only with api discovery). */
function clients(dep: Dependency, Ctor: ClientCtor) {
  const byAuthority = new Map<string, Client>();
  return {
    async get(): Promise<Client> {
      const authority = await dep.authority();
      let client = byAuthority.get(authority);
      if (!client) {
        client = new Ctor(dep.dial, credentials.createInsecure(), { 'grpc.default_authority': authority });
        byAuthority.set(authority, client);
      }
      return client;
    },
    close() {
      for (const client of byAuthority.values()) client.close();
    },
  };
}

export interface WebServiceOptions {
  readonly port: number;
  readonly emoji: Dependency;
  readonly voting: Dependency;
}

export async function startWebService(options: WebServiceOptions): Promise<DemoServer> {
  const emoji = clients(options.emoji, EmojiClient);
  const voting = clients(options.voting, VotingClient);
  const listAll = async () => (await unary<object, { list: Emoji[] }>(await emoji.get(), 'ListAll')({})).list;
  const find = async (shortcode: string) =>
    (await unary<object, { emoji?: Emoji }>(await emoji.get(), 'FindByShortcode')({ shortcode })).emoji;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://web');
    switch (url.pathname) {
      case '/':
      case '/index.html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(WEB_PAGE);
        return;
      case '/healthz':
        return json(res, 200, { ok: true });
      case '/api/list':
        return json(res, 200, await listAll());
      case '/api/vote': {
        const choice = url.searchParams.get('choice') ?? '';
        const found = await find(choice).catch(() => undefined);
        if (!found) return json(res, 404, { error: `no emoji ${choice}` });
        await unary(await voting.get(), 'Vote')({ shortcode: found.shortcode });
        return json(res, 200, { voted: found });
      }
      case '/api/leaderboard': {
        const [all, results] = await Promise.all([
          listAll(),
          unary<object, { results: { shortcode: string; votes: number }[] }>(
            await voting.get(),
            'Results',
          )({}),
        ]);
        return json(
          res,
          200,
          results.results.map((r) => ({
            ...r,
            unicode: all.find((e) => e.shortcode === r.shortcode)?.unicode,
          })),
        );
      }
      default:
        return json(res, 404, { error: `no page ${url.pathname}` });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port }, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      emoji.close();
      voting.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
