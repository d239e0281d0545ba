// `tsmesh multicluster check`: the checks and the trust-anchor comparison.
export {
  multiclusterChecks,
  type MulticlusterCheck,
  type MulticlusterCheckCategory,
  type MulticlusterCheckOptions,
  type MulticlusterChecks,
} from './multicluster-checks.js';
export { parseAnchors, sharedAnchors, type AnchorInfo } from './trust-anchors.js';
