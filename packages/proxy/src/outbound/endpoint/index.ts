export type { AttemptRequest, AttemptResponse, Headers } from './attempt.js';
export { createEndpointClient, type EndpointClient, type EndpointClientOptions } from './endpoint-client.js';
