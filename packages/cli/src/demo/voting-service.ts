// voting: a gRPC service counting votes per shortcode. Voting for :doughnut: always fails with
// UNKNOWN, as in the application this demo imitates, so its failure shows in the metrics.
import { Server, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { FAILING_SHORTCODE, findEmoji } from './emoji-data.js';
import { bindGrpc, type DemoServer } from './emoji-service.js';
import { shutdownGrpcServer } from '@tsmesh/core';
import { VotingServiceDefinition } from './grpc-json.js';

export async function startVotingService(port: number): Promise<DemoServer> {
  const votes = new Map<string, number>();
  const server = new Server();
  server.addService(VotingServiceDefinition, {
    Vote: (call: ServerUnaryCall<{ shortcode?: string }, unknown>, callback: sendUnaryData<unknown>) => {
      const shortcode = String(call.request.shortcode ?? '');
      if (shortcode === FAILING_SHORTCODE) {
        callback({ code: status.UNKNOWN, details: `voting for ${FAILING_SHORTCODE} always fails` });
        return;
      }
      if (!findEmoji(shortcode)) {
        callback({ code: status.INVALID_ARGUMENT, details: `unknown emoji ${shortcode}` });
        return;
      }
      votes.set(shortcode, (votes.get(shortcode) ?? 0) + 1);
      callback(null, {});
    },
    Results: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
      callback(null, {
        results: [...votes]
          .map(([shortcode, count]) => ({ shortcode, votes: count }))
          .sort((a, b) => b.votes - a.votes),
      }),
  });
  const bound = await bindGrpc(server, port);
  return { port: bound, close: () => shutdownGrpcServer(server) };
}
