export {
  DURATION_SYNTAX,
  parseDurationMs,
  type DurationUnit,
  type ParseDurationOptions,
} from './duration.js';
