export { silentLogger, type Logger } from './logger.js';
