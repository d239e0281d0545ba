// Entry point of the tsmesh-identity binary (bin/tsmesh-identity.js runs the built copy).
import { runIdentity } from './runtime/index.js';

process.exitCode = await runIdentity(process.argv.slice(2), process.env);
