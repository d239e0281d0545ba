export { ObjectStore, type ObjectSnapshot, type ObjectStoreOptions } from './object-store.js';
