/**
 * The work the stores did per request, from their Prometheus counters: a
 * sample of every store's /metrics before a run and one after. The scaling
 * bench prints it to show where a store's CPU per request goes as the cluster
 * grows (loop turns, fsyncs and Raft frames per request).
 */
import { descendants } from './cpu.js';

/** Counters summed over the stores (names without the raftshard_ prefix). */
const COUNTERS = ['loop_turns_total', 'fsyncs_total', 'raft_frames_sent_total', 'raft_messages_sent_total'] as const;
export type StoreCounters = Record<(typeof COUNTERS)[number], number>;

/** The --metrics address of every store process under `root` (a `raftshard local`). */
export function storeMetricsUrls(root: number): string[] {
  return descendants(root)
    .map((p) => p.argv)
    .filter((argv) => argv[argv.findIndex((a) => a.endsWith('main.js')) + 1] === 'store' && argv.includes('--metrics'))
    .map((argv) => `http://${argv[argv.indexOf('--metrics') + 1]}/metrics`);
}

/** The counters summed over `urls`; a store that does not answer counts as 0 (and the figures say so by being low). */
export async function sampleStoreCounters(urls: readonly string[]): Promise<StoreCounters> {
  const sum = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as StoreCounters;
  const texts = await Promise.all(urls.map((u) => fetch(u).then((r) => r.text(), () => '')));
  for (const text of texts) {
    for (const c of COUNTERS) {
      const m = text.match(new RegExp(`^raftshard_${c} (\\S+)$`, 'm'));
      if (m) sum[c] += Number(m[1]);
    }
  }
  return sum;
}

/** (after − before) ÷ requests, per counter. */
export function perRequest(before: StoreCounters, after: StoreCounters, requests: number): StoreCounters {
  return Object.fromEntries(COUNTERS.map((c) => [c, (after[c] - before[c]) / Math.max(1, requests)])) as StoreCounters;
}
