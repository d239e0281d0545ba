export {
  createEndpointClient,
  type AttemptRequest,
  type AttemptResponse,
  type EndpointClient,
  type EndpointClientOptions,
  type Headers,
} from './endpoint-client.js';
