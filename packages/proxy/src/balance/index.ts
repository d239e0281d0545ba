export { createPeakEwma, type PeakEwma, type PeakEwmaOptions } from './peak-ewma.js';
export { pickP2c } from './p2c.js';
