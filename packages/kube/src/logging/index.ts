export { silentLogger, type Logger } from './logger.js';
export { createJsonLogger, type LogLevel } from './json-logger.js';
