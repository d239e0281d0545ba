export { WatchCache, type WatchCacheOptions } from './watch-cache.js';
export { createWatchMetrics, type WatchMetrics, type WatchRestartReason } from './watch-metrics.js';
