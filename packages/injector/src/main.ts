// Entry point of the tsmesh-injector binary (bin/tsmesh-injector.js runs the built copy).
import { runInjector } from './runtime/index.js';

process.exitCode = await runInjector(process.argv.slice(2), process.env);
