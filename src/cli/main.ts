#!/usr/bin/env node
/**
 * cli — the `raftshard` entry point: the only place that wires real
 * implementations together. Subcommands arrive with the issues that build them.
 */
import { DbError } from '../common/index.js';
import { parseArgs } from './args.js';
import { BOOTSTRAP_HELP, bootstrapCommand } from './bootstrap-command.js';
import { GATEWAY_HELP, gatewayCommand } from './gateway-command.js';
import { LOCAL_HELP, localCommand } from './local-command.js';
import { SIM_HELP, simCommand } from './sim-command.js';
import { STORE_HELP, storeCommand } from './store-command.js';

const HELP = `Usage: raftshard <command> [options]

Commands:
  store     run one store process (range replicas over gRPC and LevelDB)
  bootstrap create the initial ranges of a new cluster on its stores
  sim       run the deterministic Raft simulator over many seeds
  local     start a local cluster: stores and a gateway, supervised (what npm start runs)
  gateway   run the HTTP gateway over a set of stores
  help      show this help

Run "raftshard <command> --help" for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const args = parseArgs(rest);
  switch (command) {
    case 'sim':
      if (args.flags.has('help')) return print(SIM_HELP);
      return simCommand(args);
    case 'store':
      if (args.flags.has('help')) return print(STORE_HELP);
      await storeCommand(args);
      return 0;
    case 'bootstrap':
      if (args.flags.has('help')) return print(BOOTSTRAP_HELP);
      await bootstrapCommand(args);
      return 0;
    case 'local':
      if (args.flags.has('help')) return print(LOCAL_HELP);
      return localCommand(args);
    case 'gateway':
      if (args.flags.has('help')) return print(GATEWAY_HELP);
      await gatewayCommand(args);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return print(HELP);
    default:
      console.error(`raftshard: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

function print(text: string): number {
  console.log(text);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`raftshard: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = err instanceof DbError ? 2 : 1;
  },
);
