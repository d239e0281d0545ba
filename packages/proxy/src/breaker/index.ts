export {
  createFailureAccrual,
  DEFAULT_FAILURE_ACCRUAL,
  type BreakerState,
  type FailureAccrual,
  type FailureAccrualOptions,
} from './failure-accrual.js';
