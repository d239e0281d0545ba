export { parseArgs, USAGE, type Command, type ParsedArgs } from './usage.js';
