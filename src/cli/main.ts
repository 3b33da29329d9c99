#!/usr/bin/env node
/**
 * cli — the `raftshard` entry point: the only place that wires real
 * implementations together. Subcommands arrive with the issues that build them.
 */
import { DbError } from '../common/index.js';
import { parseArgs } from './args.js';
import { SIM_HELP, simCommand } from './sim-command.js';

const HELP = `Usage: raftshard <command> [options]

Commands:
  sim       run the deterministic Raft simulator over many seeds
  local     start a local cluster (not built yet: needs the store, PD and gateway)
  help      show this help

Run "raftshard <command> --help" for a command's options.`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  const args = parseArgs(rest);
  switch (command) {
    case 'sim':
      if (args.flags.has('help')) return print(SIM_HELP);
      return simCommand(args);
    case 'local':
      console.error('raftshard local: not built yet. The Raft core, its storage and the simulator exist;\n' + 'the store, placement driver and gateway that make a cluster come next (see README "Roadmap").');
      return 1;
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

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  if (err instanceof DbError) {
    console.error(`raftshard: ${err.message}`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
