export { podScrapeTargets, podTargetLabels } from './pod-targets.js';
