export { tapInjectionPatch } from './tap-injector.js';
export { startTapInjector, type TapInjectorOptions } from './tap-injector-server.js';
