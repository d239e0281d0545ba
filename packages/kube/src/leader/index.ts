export {
  createLeaderElector,
  formatMicroTime,
  LeaderElector,
  type Lease,
  type LeaderElectorOptions,
  type LeaseSpec,
} from './leader-elector.js';
