export { tapInjectionPatch } from './tap-injector.js';
