export {
  createAccessLog,
  formatAccessLog,
  formatTimestamp,
  nowNs,
  parseAccessLogFormat,
  type AccessLog,
  type AccessLogEntry,
  type AccessLogFormat,
} from './access-log.js';
