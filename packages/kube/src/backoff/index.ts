export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
