// emoji: a gRPC service listing the demo's emojis and finding one by shortcode.
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { EMOJIS, findEmoji } from './emoji-data.js';
import { shutdownGrpcServer } from '@tsmesh/core';
import { EmojiServiceDefinition } from './grpc-json.js';

export interface DemoServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function bindGrpc(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
}

export async function startEmojiService(port: number): Promise<DemoServer> {
  const server = new Server();
  server.addService(EmojiServiceDefinition, {
    ListAll: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
      callback(null, { list: EMOJIS }),
    FindByShortcode: (
      call: ServerUnaryCall<{ shortcode?: string }, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      const emoji = findEmoji(String(call.request.shortcode ?? ''));
      if (!emoji) callback({ code: status.NOT_FOUND, details: `no emoji ${call.request.shortcode}` });
      else callback(null, { emoji });
    },
  });
  const bound = await bindGrpc(server, port);
  return { port: bound, close: () => shutdownGrpcServer(server) };
}
