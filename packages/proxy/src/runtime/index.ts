export { startProxy, type RunningProxy, type StartProxyOptions } from './start-proxy.js';
