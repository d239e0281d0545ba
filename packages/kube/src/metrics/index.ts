export { counterOn, gaugeOn, histogramOn } from './registry-metrics.js';
