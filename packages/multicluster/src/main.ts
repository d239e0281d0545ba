// Entry point of the tsmesh-service-mirror binary (bin/tsmesh-service-mirror.js runs the built copy).
import { runServiceMirror } from './runtime/index.js';

process.exitCode = await runServiceMirror(process.argv.slice(2));
