export {
  diffSnapshots,
  ObjectStore,
  type ObjectSnapshot,
  type ObjectStoreOptions,
  type SnapshotDiff,
} from './object-store.js';
