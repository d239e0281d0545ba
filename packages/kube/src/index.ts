export { PACKAGE_NAME, VERSION } from './version.js';
