export {
  DESTINATION_USAGE,
  parseDestinationConfig,
  SP_VALIDATOR_USAGE,
  type DestinationConfig,
} from './destination-config.js';
export { runDestination } from './run-destination.js';
