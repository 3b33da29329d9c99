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
  SPLIT_HELP,
  splitCommand,
  STORES_HELP,
  storesCommand,
  TRANSFER_LEADER_HELP,
  transferLeaderCommand,
} from './admin-commands.js';
import { parseArgs } from './args.js';
import { BOOTSTRAP_HELP, bootstrapCommand } from './bootstrap-command.js';
import { GATEWAY_HELP, gatewayCommand } from './gateway-command.js';
import { KV_HELP, kvCommand } from './kv-command.js';
import { LOCAL_HELP, localCommand } from './local-command.js';
import { SIM_HELP, simCommand } from './sim-command.js';
import { STORE_HELP, storeCommand } from './store-command.js';
import { PD_HELP, pdCommand } from './pd-command.js';

const HELP = `Usage: raftshard <command> [options]

Commands:
  local     start a local cluster: placement driver, stores and a gateway, supervised (what npm start runs)
  pd        run one placement driver member (range map, store registry, ids, timestamps, scheduler)
  store     run one store process (range replicas over gRPC and LevelDB)
  gateway   run the HTTP gateway (routes by the placement driver's range map)
  bootstrap create fixed ranges on stores run without a placement driver (benchmarks)
  sim       run the deterministic Raft simulator over many seeds
  help      show this help

Against a running gateway (--gateway URL or $RAFTSHARD_GATEWAY, default
http://127.0.0.1:8080; --json prints the gateway's JSON answer):
  ranges                       list the ranges: bounds, epoch, replicas, leader, size
  stores                       list the stores: address, pid, state, replicas, leaders
  split KEY                    split the range holding KEY at KEY
  move RANGE FROM TO           move a replica of RANGE from store FROM to store TO
  transfer-leader RANGE STORE  make STORE the leader of RANGE
  rebalance                    balance replicas and leaders across the up stores
  kv get|put|del|scan ...      read and write keys

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
    case 'pd':
      if (args.flags.has('help')) return print(PD_HELP);
      await pdCommand(args);
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
    case 'ranges':
      if (args.flags.has('help')) return print(RANGES_HELP);
      return rangesCommand(args);
    case 'stores':
      if (args.flags.has('help')) return print(STORES_HELP);
      return storesCommand(args);
    case 'split':
      if (args.flags.has('help')) return print(SPLIT_HELP);
      return splitCommand(args);
    case 'move':
      if (args.flags.has('help')) return print(MOVE_HELP);
      return moveCommand(args);
    case 'transfer-leader':
      if (args.flags.has('help')) return print(TRANSFER_LEADER_HELP);
      return transferLeaderCommand(args);
    case 'rebalance':
      if (args.flags.has('help')) return print(REBALANCE_HELP);
      return rebalanceCommand(args);
    case 'kv':
      if (args.flags.has('help')) return print(KV_HELP);
      return kvCommand(args);
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
