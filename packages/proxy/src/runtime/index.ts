export { startProxy, type RunningProxy, type StartProxyOptions } from './start-proxy.js';
export { asyncResourceBindAllocatesAccessors, installAsyncResourceBind } from './async-resource-bind.js';
export { lowerHelperThreadPriority, type HelperThreadPriorityOptions } from './helper-threads.js';
