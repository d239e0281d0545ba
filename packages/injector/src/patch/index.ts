export { applyJsonPatch, deepEqual, diffJson } from './json-patch.js';
