// The package's own name and version, read from its package.json at build time.
import pkg from '../package.json' with { type: 'json' };

export const PACKAGE_NAME: string = pkg.name;
export const VERSION: string = pkg.version;
