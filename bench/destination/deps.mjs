// The built packages, by path: bench/package.json is shared, so the destination bench imports the
// dist files directly (build first: `pnpm exec nx run @tsmesh/destination:build`).
/* eslint-disable @nx/enforce-module-boundaries -- built files by path, see above */
export * from '../../packages/destination/dist/index.js';
export { addDestinationService, destination, DestinationClient } from '../../packages/core/dist/index.js';
export { CoreKinds, kindKey, LatestValue, MeshKinds, ObjectStore } from '../../packages/kube/dist/index.js';
