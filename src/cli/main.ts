#!/usr/bin/env node
/**
 * cli — the `raftshard` entry point: the only place that wires real
 * implementations together. Subcommands arrive with the issues that build them.
 */
import { DbError } from '../common/index.js';
import {
  MOVE_HELP,
  moveCommand,
  RANGES_HELP,
  rangesCommand,
  REBALANCE_HELP,
  rebalanceCommand,
  decommissionCommand,
  DECOMMISSION_HELP,
  SPLIT_HELP,
  splitCommand,
  STORES_HELP,
  storesCommand,
  TRANSFER_LEADER_HELP,
  transferLeaderCommand,
} from './admin-commands.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { parseCommandArgs, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, bootstrapCommand } from './bootstrap-command.js';
import { GATEWAY_COMMAND_OPTIONS, GATEWAY_HELP, gatewayCommand } from './gateway-command.js';
import { GATEWAY_OPTIONS } from './gateway-http.js';
import { KV_HELP, KV_OPTIONS, kvCommand } from './kv-command.js';
import { LOCAL_HELP, LOCAL_OPTIONS, localCommand } from './local-command.js';
import { SIM_HELP, SIM_OPTIONS, simCommand } from './sim-command.js';
import { STORE_HELP, STORE_OPTIONS, storeCommand } from './store-command.js';
import { PD_HELP, PD_OPTIONS, pdCommand } from './pd-command.js';

const HELP = `Usage: raftshard <command> [options]

Commands:
  local     start a local cluster: placement driver, stores and a gateway, supervised (what npm start runs)
  pd        run one placement driver member (range map, store registry, ids, timestamps, scheduler)
  store     run one store process (range replicas over gRPC and LevelDB)
  gateway   run the HTTP gateway (routes by the placement driver's range map)
  bootstrap create fixed ranges on stores run without a placement driver (benchmarks)
  sim       run the deterministic Raft simulator over many seeds
  help      show this help

Logs go to stderr: readable lines on a terminal, JSON lines otherwise
(RAFTSHARD_LOG_FORMAT=pretty|json to choose; RAFTSHARD_LOG=debug|info|warn|error
for the level).

Against a running gateway (--gateway URL or $RAFTSHARD_GATEWAY, default
http://127.0.0.1:8080; --json prints the gateway's JSON answer):
  ranges                       list the ranges: bounds, epoch, replicas, leader, size
  stores                       list the stores: address, pid, state, replicas, leaders
  split KEY                    split the range holding KEY at KEY
  move RANGE FROM TO           move a replica of RANGE from store FROM to store TO
  transfer-leader RANGE STORE  make STORE the leader of RANGE
  rebalance                    balance replicas and leaders across the up stores
  decommission STORE           move every replica off STORE, then remove it for good
  kv get|put|del|scan ...      read and write keys

Run "raftshard <command> --help" for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'sim':
      return run(rest, SIM_OPTIONS, SIM_HELP, simCommand);
    case 'store':
      return run(rest, STORE_OPTIONS, STORE_HELP, storeCommand);
    case 'pd':
      return run(rest, PD_OPTIONS, PD_HELP, pdCommand);
    case 'bootstrap':
      return run(rest, BOOTSTRAP_OPTIONS, BOOTSTRAP_HELP, bootstrapCommand);
    case 'local':
      return run(rest, LOCAL_OPTIONS, LOCAL_HELP, localCommand);
    case 'gateway':
      return run(rest, GATEWAY_COMMAND_OPTIONS, GATEWAY_HELP, gatewayCommand);
    case 'ranges':
      return run(rest, GATEWAY_OPTIONS, RANGES_HELP, rangesCommand, true);
    case 'stores':
      return run(rest, GATEWAY_OPTIONS, STORES_HELP, storesCommand, true);
    case 'split':
      return run(rest, GATEWAY_OPTIONS, SPLIT_HELP, splitCommand, true);
    case 'move':
      return run(rest, GATEWAY_OPTIONS, MOVE_HELP, moveCommand, true);
    case 'transfer-leader':
      return run(rest, GATEWAY_OPTIONS, TRANSFER_LEADER_HELP, transferLeaderCommand, true);
    case 'rebalance':
      return run(rest, GATEWAY_OPTIONS, REBALANCE_HELP, rebalanceCommand, true);
    case 'decommission':
      return run(rest, GATEWAY_OPTIONS, DECOMMISSION_HELP, decommissionCommand, true);
    case 'kv':
      return run(rest, KV_OPTIONS, KV_HELP, kvCommand, true);
    case 'sql':
    case 'shell':
      console.error(`raftshard: "${command}" needs the SQL layer, which is not built yet (see README, Roadmap)`);
      return 2;
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

/**
 * Parses a command's argv against its options and runs it, or with --help
 * prints its usage. A command that returns no code succeeded (exit 0); those
 * that serve (store, pd, gateway) return once they listen, and the process
 * lives on. A bad option is a UsageError: printed with the usage, exit 2.
 */
async function run<O extends OptionSpec>(
  argv: readonly string[],
  options: O,
  usage: string,
  command: (args: ParsedArgs<O>) => number | Promise<number> | Promise<void>,
  allowPositionals = false,
): Promise<number> {
  const args = parseCommandArgs(argv, options, usage, allowPositionals);
  if (args.values.help === true) return print(usage);
  const code = await command(args);
  return typeof code === 'number' ? code : 0;
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
    if (err instanceof UsageError) console.error(`\n${err.usage}`);
    process.exitCode = err instanceof DbError ? 2 : 1;
  },
);
