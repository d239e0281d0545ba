export { INJECTOR_USAGE, runInjector } from './run-injector.js';
