export { podProxyContainer } from './meshed-pod.js';
