/** Free TCP ports on 127.0.0.1 for tests and benchmarks that start servers. */
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now. */

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A base port P for `raftshard local`, which listens on P..P+span-1. Each
 * vitest worker draws from its own block (VITEST_POOL_ID), below the
 * ephemeral range, so the clusters of test files running side by side never
 * share a port; every port of the span is checked free.
 */
export async function clusterBasePort(span = 40): Promise<number> {
  const pool = Number(process.env.VITEST_POOL_ID ?? 0);
  const block = 20_000 + (pool % 12) * 1_000;
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = block + span * Math.floor(Math.random() * Math.floor(1_000 / span));
    let free = true;
    for (let p = base; p < base + span && free; p++) free = await canListen(p);
    if (free) return base;
  }
  throw new Error(`no ${span} free ports in ${block}..${block + 999}`);
}
