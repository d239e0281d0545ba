// The `tsmesh-proxy` binary. Only this file touches process.argv, process.env and process.exit.
import { parseArgs, USAGE } from './cli/index.js';
import { VERSION } from './version.js';

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if ('error' in parsed) {
    process.stderr.write(`tsmesh-proxy: ${parsed.error}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`tsmesh-proxy ${VERSION}\n`);
    return 0;
  }
  process.stderr.write(`tsmesh-proxy: "${parsed.command}" is not implemented yet\n`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
