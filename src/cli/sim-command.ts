/**
 * `raftshard sim`: runs seeds of the deterministic simulator and reports
 * failures with the command that replays them.
 */
import { clusterReplayCommand, replayCommand, runClusterSeed, runSeed } from '../sim/index.js';
import type { ClusterWorkload, SimOptions } from '../sim/index.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { intFlag, UsageError } from './args.js';

export const SIM_HELP = `Usage: raftshard sim [--seeds N] [--start S] [--steps K] [--nodes M] [--verbose]
       raftshard sim --cluster [--bank | --append] [--seeds N] [--start S] [--stores M] [--log LEVEL] [--verbose]

Runs seeds S..S+N-1 of the deterministic Raft simulator: one Raft group of the
store's own replicas (its Ready loop, apply and exactly-once records) over a
simulated clock, disk and network, under a nemesis that drops,
delays, duplicates and reorders messages, partitions the network (also one
way), crashes nodes (also inside a Ready) or fails their fsyncs and restarts
them, changes membership and transfers leadership.
Safety is checked as every Ready is persisted; then the faults heal, every
pending client operation must complete and the replicas' states must agree;
finally the client history must be linearizable. The same seed replays bit for bit.

With --cluster, the whole-cluster simulator instead: the processes of a
cluster (three placement-driver members, stores, the gateway's router and
transaction client: the code \`raftshard pd\`, \`store\` and \`gateway\` run)
over an in-memory network and disks and a simulated clock. Clients go through
the gateway's code while a nemesis cuts processes off (also one way), pauses,
crashes and restarts them, slows and fails their disks, and runs splits,
moves, leader transfers, rebalance, a store that joins and one that dies for
good. Once healed every client must finish, the history must be
linearizable, and the range table must cover the keyspace with three voters
per range. With --bank its clients run transactions instead (two-phase
commit across ranges at the PD's TSO, moving money between accounts, some
abandoned by their coordinator halfway, and snapshot reads of every
balance): every snapshot must sum to the total. With --append they run
list-append transactions mixed with /kv cas appends (Elle's workload: reads
of a key's list and appends of unique elements), and the history must be
free of G0, G1a/b/c, G-single, lost updates and their real-time variants
(G2, write skew, is allowed: snapshot isolation). Each seed prints a digest
of its run: the same seed gives the same digest.

Options:
  --cluster     the whole-cluster simulator (see above)
  --bank        with --cluster: the transactional bank workload
  --append      with --cluster: the list-append transactional workload
  --stores M    stores at the start of a cluster run (default 3)
  --log LEVEL   print the cluster's log lines (debug, info, warn), stamped
                with simulated time in ms
  --seeds N     how many seeds (default 100)
  --start S     first seed (default 1)
  --steps K     ticks of the fault phase per seed (default 2000)
  --nodes M     initial voters (default: 3, or 5 for every fifth seed)
  --verbose     print one line per seed with its statistics

Prints one line per failing seed with a replay command, then
"sim: N seeds, F failures"; exits 1 when F > 0.`;

export const SIM_OPTIONS = {
  seeds: { type: 'string' },
  start: { type: 'string' },
  steps: { type: 'string' },
  nodes: { type: 'string' },
  verbose: { type: 'boolean' },
  cluster: { type: 'boolean' },
  bank: { type: 'boolean' },
  append: { type: 'boolean' },
  stores: { type: 'string' },
  log: { type: 'string' },
} as const satisfies OptionSpec;

export function simCommand({ values }: ParsedArgs<typeof SIM_OPTIONS>): Promise<number> {
  const seeds = intFlag(values, 'seeds', 100, 1);
  const start = intFlag(values, 'start', 1);
  if (values.cluster === true) {
    if (values.bank === true && values.append === true) throw new UsageError('--bank and --append are different workloads: choose one', SIM_HELP);
    const workload: ClusterWorkload = values.bank === true ? 'bank' : values.append === true ? 'append' : 'kv';
    return clusterSeeds(seeds, start, intFlag(values, 'stores', 3, 3), workload, values.verbose === true, values.log);
  }
  const overrides: Partial<SimOptions> = {};
  if (values.steps !== undefined) (overrides as { steps: number }).steps = intFlag(values, 'steps', 2000, 1);
  if (values.nodes !== undefined) (overrides as { nodes: number }).nodes = intFlag(values, 'nodes', 3, 1);
  return groupSeeds(seeds, start, overrides, values.verbose === true);
}

async function groupSeeds(seeds: number, start: number, overrides: Partial<SimOptions>, verbose: boolean): Promise<number> {
  let failures = 0;
  const progressEvery = Math.max(1, Math.floor(seeds / 20));
  for (let i = 0; i < seeds; i++) {
    const seed = start + i;
    const r = await runSeed(seed, overrides);
    if (!r.ok) {
      failures++;
      console.log(`FAIL seed ${seed}: ${r.failure}\n  replay: ${replayCommand(seed, overrides)}`);
    } else if (verbose) {
      console.log(`ok seed ${seed}: ${JSON.stringify(r.stats)}`);
    }
    if (seeds >= 100 && (i + 1) % progressEvery === 0 && process.stderr.isTTY) {
      process.stderr.write(`\rsim: ${i + 1}/${seeds} seeds, ${failures} failures`);
    }
  }
  if (seeds >= 100 && process.stderr.isTTY) process.stderr.write('\n');
  console.log(`sim: ${seeds} seeds, ${failures} failures`);
  return failures > 0 ? 1 : 0;
}

async function clusterSeeds(seeds: number, start: number, stores: number, workload: ClusterWorkload, verbose: boolean, log: string | undefined): Promise<number> {
  let failures = 0;
  for (let i = 0; i < seeds; i++) {
    const seed = start + i;
    const r = await runClusterSeed(seed, { stores, workload, log });
    if (!r.ok) {
      failures++;
      console.log(`FAIL seed ${seed} (digest ${r.digest}): ${r.failure}\n  ${JSON.stringify(r.stats)}\n  replay: ${clusterReplayCommand(seed, stores, workload)}`);
    } else if (verbose) {
      console.log(`ok seed ${seed} digest ${r.digest}: ${JSON.stringify(r.stats)}`);
    }
    if (process.stderr.isTTY) process.stderr.write(`\rsim: ${i + 1}/${seeds} cluster seeds, ${failures} failures`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(`sim: ${seeds} seeds, ${failures} failures`);
  return failures > 0 ? 1 : 0;
}
