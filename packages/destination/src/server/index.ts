// The gRPC edge: Get/GetProfile handlers and the service runtime.
export {
  createDestinationHandlers,
  type DestinationHandlerConfig,
  type DestinationHandlerDeps,
} from './destination-handlers.js';
export {
  createDestinationMetrics,
  type DestinationMetrics,
  type StreamMethod,
} from './destination-metrics.js';
export {
  startDestinationService,
  type DestinationService,
  type DestinationServiceOptions,
} from './destination-service.js';
