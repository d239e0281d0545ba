export { listenHttp, type HttpListener } from './http-listener.js';
