export type {
  AttemptReceiver,
  AttemptRequest,
  AttemptResponse,
  BodySink,
  BodySource,
  Headers,
} from './attempt.js';
export { createEndpointClient, type EndpointClient, type EndpointClientOptions } from './endpoint-client.js';
