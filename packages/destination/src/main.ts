// Entry point of the tsmesh-destination binary (bin/tsmesh-destination.js runs the built copy).
import { runDestination } from './runtime/index.js';

process.exitCode = await runDestination(process.argv.slice(2));
