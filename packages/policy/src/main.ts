// Entry point of the tsmesh-policy binary (bin/tsmesh-policy.js runs the built copy).
import { runPolicy } from './runtime/index.js';

process.exitCode = await runPolicy(process.argv.slice(2), process.env);
