export {
  createBalancer,
  isFailureResponse,
  type Balancer,
  type BalancerOptions,
  type EndpointLease,
} from './balancer.js';
