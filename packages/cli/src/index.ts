export { createProgram, type ProgramIo } from './program.js';
export { PACKAGE_NAME, VERSION } from './version.js';
