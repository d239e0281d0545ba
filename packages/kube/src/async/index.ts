export { LatestValue } from './latest-value.js';
export { linkedAbortController, sleep } from './sleep.js';
