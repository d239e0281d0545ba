import { tsmeshProject } from '../../vitest.shared.ts';

export default tsmeshProject('viz', {
  // The web app's pure parts (formats, routes, chart scales, graph layout, tap rows) too.
  include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
});
