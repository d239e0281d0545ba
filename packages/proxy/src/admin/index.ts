export { startAdmin, type AdminOptions, type AdminServer, type LogLevelControl } from './admin-server.js';
export { createLogLevelControl, parseLogFilter } from './log-level.js';
