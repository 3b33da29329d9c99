/**
 * `raftshard bootstrap`: creates the initial ranges of a new cluster on its
 * first stores (a stand-in for the placement driver, which will own this).
 */
import { DbError } from '../common/index.js';
import { evenSplits, rangesFromSplits } from '../replica/index.js';
import { StoreClient } from '../transport/index.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { intFlag } from './args.js';
import { parsePeers } from './store-command.js';

export const BOOTSTRAP_HELP = `Usage: raftshard bootstrap --stores ID=HOST:PORT,... [--ranges N | --splits K1,K2,...]

Creates the ranges of a new cluster, each replicated on every listed store
(3 stores: 3 replicas). --ranges N splits the keyspace "k000000".."k999999"
(the benchmarks' keys) evenly; --splits gives the boundaries explicitly.
Re-running it is harmless: existing replicas are left as they are.`;

export const BOOTSTRAP_OPTIONS = { stores: { type: 'string' }, ranges: { type: 'string' }, splits: { type: 'string' } } as const satisfies OptionSpec;

export async function bootstrapCommand({ values }: ParsedArgs<typeof BOOTSTRAP_OPTIONS>): Promise<void> {
  if (values.stores === undefined) throw new DbError('BAD_REQUEST', '--stores is required (run "raftshard bootstrap --help")');
  const stores = parsePeers(values.stores);
  const enc = new TextEncoder();
  const splits = values.splits !== undefined ? values.splits.split(',').filter(Boolean).map((k) => enc.encode(k)).sort(Buffer.compare) : evenSplits(intFlag(values, 'ranges', 1, 1));
  const ranges = rangesFromSplits(splits, [...stores.keys()]);
  for (const [id, address] of stores) {
    const client = new StoreClient(address);
    for (const r of ranges) await client.createReplica(r, true);
    client.close();
    console.log(`store ${id}: ${ranges.length} ranges`);
  }
}
