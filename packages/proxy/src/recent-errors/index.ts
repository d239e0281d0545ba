export {
  createRecentErrors,
  DEFAULT_RECENT_ERRORS_CAPACITY,
  type RecentError,
  type RecentErrorInput,
  type RecentErrors,
} from './recent-errors.js';
