export { awaitProxy, waitForProxyReady, type AwaitProxyOptions } from './await-proxy.js';
