import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry, Ready } from '../raft/index.js';
import { encodeEntry } from './codec.js';
import { LevelEngine } from './engine.js';
import { raftHardStateKey, raftLogKey } from './keys.js';
import { DurableRaftStorage } from './raft-log-store.js';
import { WriteBatch } from './write-batch.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openEngine(dir?: string): Promise<{ engine: LevelEngine; dir: string }> {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'raftshard-log-'));
  if (!dir) dirs.push(d);
  return { engine: await LevelEngine.open(d), dir: d };
}

const ent = (index: number, term: number, text = `e${index}`): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(text) });
const ready = (entries: Entry[], hardState?: Ready['hardState']): Pick<Ready, 'entries' | 'hardState' | 'snapshot' | 'mustSync'> => ({ entries, hardState, snapshot: undefined, mustSync: true });

async function persist(engine: LevelEngine, parts: [DurableRaftStorage, ReturnType<typeof ready>][]): Promise<void> {
  const batch = new WriteBatch();
  for (const [st, rd] of parts) st.stage(batch, rd);
  await batch.write(engine);
  for (const [st, rd] of parts) st.onPersisted(rd);
}

describe('DurableRaftStorage on LevelDB', () => {
  it('recovers term, vote, commit and the log of several groups written in one batch', async () => {
    const { engine, dir } = await openEngine();
    const groups = await Promise.all([1, 2, 300].map((g) => DurableRaftStorage.open(engine, g)));
    await persist(engine, groups.map((st, i) => [st, ready([ent(1, 1), ent(2, 1), ent(3, 2 + i)], { term: 2 + i, vote: i + 1, commit: 2 })]));
    await engine.close();

    const { engine: again } = await openEngine(dir);
    for (const [i, g] of [1, 2, 300].entries()) {
      const st = await DurableRaftStorage.open(again, g);
      expect(st.initialState().hardState).toEqual({ term: 2 + i, vote: i + 1, commit: 2 });
      expect(st.lastIndex()).toBe(3);
      expect(st.entries(1, 4, Infinity)).toEqual([ent(1, 1), ent(2, 1), ent(3, 2 + i)]);
    }
    await again.close();
  });

  it('a conflicting suffix overwritten by a shorter one does not come back', async () => {
    const { engine, dir } = await openEngine();
    const st = await DurableRaftStorage.open(engine, 7);
    await persist(engine, [[st, ready([ent(1, 1), ent(2, 1), ent(3, 1), ent(4, 1)], { term: 1, vote: 0, commit: 1 })]]);
    await persist(engine, [[st, ready([ent(2, 3, 'new')], { term: 3, vote: 0, commit: 1 })]]);
    expect(st.lastIndex()).toBe(2);
    await engine.close();
    const { engine: again } = await openEngine(dir);
    const back = await DurableRaftStorage.open(again, 7);
    expect(back.lastIndex()).toBe(2);
    expect(back.entries(1, 3, Infinity)).toEqual([ent(1, 1), ent(2, 3, 'new')]);
    await again.close();
  });

  it('compaction keeps the snapshot metadata and the entries after it', async () => {
    const { engine, dir } = await openEngine();
    const st = await DurableRaftStorage.open(engine, 1);
    await persist(engine, [[st, ready([1, 2, 3, 4, 5].map((i) => ent(i, 1)), { term: 1, vote: 0, commit: 5 })]]);
    const batch = new WriteBatch();
    const meta = st.stageCompaction(batch, 3, { voters: [1, 2, 3], learners: [4] })!;
    await batch.write(engine);
    st.onCompacted(meta);
    expect(st.firstIndex()).toBe(4);
    await engine.close();
    const { engine: again } = await openEngine(dir);
    const back = await DurableRaftStorage.open(again, 1);
    expect(back.firstIndex()).toBe(4);
    expect(back.lastIndex()).toBe(5);
    expect(back.snapshot().meta).toEqual({ index: 3, term: 1, conf: { voters: [1, 2, 3], learners: [4] } });
    expect(back.initialState().confState).toEqual({ voters: [1, 2, 3], learners: [4] });
    await again.close();
  });

  describe('detects corruption instead of using it', () => {
    async function corrupted(damage: (engine: LevelEngine) => Promise<void>): Promise<unknown> {
      const { engine, dir } = await openEngine();
      const st = await DurableRaftStorage.open(engine, 9);
      await persist(engine, [[st, ready([1, 2, 3].map((i) => ent(i, 1)), { term: 1, vote: 0, commit: 3 })]]);
      await damage(engine);
      await engine.close();
      const { engine: again } = await openEngine(dir);
      try {
        await DurableRaftStorage.open(again, 9);
        return undefined;
      } catch (err) {
        return err;
      } finally {
        await again.close();
      }
    }

    it('a flipped bit in an entry', async () => {
      const err = await corrupted(async (e) => {
        const v = (await e.get(raftLogKey(9, 2)))!.slice();
        v[v.length - 1] ^= 0x10;
        await e.write([{ type: 'put', key: raftLogKey(9, 2), value: v }], true);
      });
      expect(err).toMatchObject({ code: 'STORAGE_CORRUPTION' });
      expect(String((err as Error).message)).toMatch(/log entry 2 of group 9: checksum/);
    });

    it('a truncated entry', async () => {
      const err = await corrupted(async (e) => {
        const v = (await e.get(raftLogKey(9, 3)))!;
        await e.write([{ type: 'put', key: raftLogKey(9, 3), value: v.subarray(0, 3) }], true);
      });
      expect(err).toMatchObject({ code: 'STORAGE_CORRUPTION' });
    });

    it('a missing entry in the middle of the log', async () => {
      const err = await corrupted((e) => e.write([{ type: 'del', key: raftLogKey(9, 2) }], true));
      expect(String((err as Error).message)).toMatch(/gap/);
    });

    it('an entry stored under the wrong index', async () => {
      const err = await corrupted((e) => e.write([{ type: 'put', key: raftLogKey(9, 3), value: encodeEntry(ent(4, 1)) }], true));
      expect(String((err as Error).message)).toMatch(/holds index 4/);
    });

    it('a hard state committing past the log', async () => {
      const err = await corrupted(async (e) => {
        const { encodeHardState } = await import('./codec.js');
        await e.write([{ type: 'put', key: raftHardStateKey(9), value: encodeHardState({ term: 1, vote: 0, commit: 10 }) }], true);
      });
      expect(String((err as Error).message)).toMatch(/commit 10 beyond last index 3/);
    });
  });
});
