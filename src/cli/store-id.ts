/**
 * Which id a store process runs as: the flag's, else the one kept in its data
 * directory, else a new one from the placement driver (then kept, fsynced).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PdClient } from '../transport/index.js';

/** The store id: the flag's, else the one kept in `dir`, else a new one from the PD (then kept). */
export async function resolveStoreId(pd: PdClient, dir: string, flagId: number, address: string): Promise<number> {
  const file = join(dir, 'STORE_ID');
  if (flagId !== 0) return flagId;
  if (existsSync(file)) return Number(readFileSync(file, 'utf8').trim());
  const { id } = await pd.call('RegisterStore', { id: 0, address, pid: process.pid, fresh: true }, 60_000);
  mkdirSync(dir, { recursive: true });
  const fd = openSync(file, 'w');
  writeSync(fd, `${id}\n`);
  fsyncSync(fd);
  closeSync(fd);
  return id;
}

