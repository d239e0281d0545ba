// Logging: the Logger interface is @tsmesh/kube's (pino's shape: fields first, then the message);
// the binary's JSON logger is kube's createJsonLogger, created by runControllerMain.
export { silentLogger, type Logger } from '@tsmesh/kube';
