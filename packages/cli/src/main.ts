// The `tsmesh` binary.
import { CommanderError } from 'commander';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    console.error(`tsmesh: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
