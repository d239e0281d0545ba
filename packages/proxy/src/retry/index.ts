export {
  createRetryBudget,
  DEFAULT_RETRY_BUDGET,
  type RetryBudget,
  type RetryBudgetOptions,
} from './retry-budget.js';
