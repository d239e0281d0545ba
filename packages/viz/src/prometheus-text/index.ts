export {
  formatSample,
  parsePrometheusText,
  parsePrometheusTextDetailed,
  type ParsedText,
  type ParseProblem,
  type Sample,
} from './parse.js';
