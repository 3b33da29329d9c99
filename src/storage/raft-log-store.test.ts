/** DurableRaftStorage over a real LevelDB in a temp dir: what is persisted comes back exactly, and damage is refused. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry, HardState, Snapshot } from '../raft/index.js';
import { DEFAULT_CONFIG, RawNode } from '../raft/index.js';
import { SeededRng } from '../runtime/index.js';
import { encodeEntry, encodeHardState, encodeSnapshotMeta } from './codec.js';
import type { BatchOp, Engine } from './engine.js';
import { LevelEngine } from './engine.js';
import { raftHardStateKey, raftLogBounds, raftLogIndex, raftLogKey, snapshotMetaKey } from './keys.js';
import type { LogWrites } from './raft-log-store.js';
import { DurableRaftStorage } from './raft-log-store.js';
import { WriteBatch } from './write-batch.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Counts the writes and fsyncs reaching an engine, to show one batch serves many groups. */
class CountingEngine implements Engine {
  writes = 0;
  syncs = 0;

  constructor(private readonly inner: Engine) {}

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.inner.getMany(keys);
  }

  write(ops: readonly BatchOp[], sync: boolean): Promise<void> {
    this.writes++;
    if (sync) this.syncs++;
    return this.inner.write(ops, sync);
  }

  range(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    return this.inner.range(gte, lt);
  }

  snapshotRange(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    return this.inner.snapshotRange(gte, lt);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftshard-log-'));
  dirs.push(d);
  return d;
}

const ent = (index: number, term: number, text = `e${index}`): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(text) });
const range = (from: number, to: number, term: number): Entry[] => Array.from({ length: to - from + 1 }, (_, i) => ent(from + i, term));
const writes = (entries: Entry[], hardState?: HardState, snapshot?: Snapshot): LogWrites => ({ entries, hardState, snapshot });

/** Stages each group's part of one Ready into ONE batch, writes it once, then tells every group. */
async function persist(engine: Engine, parts: [DurableRaftStorage, LogWrites][]): Promise<void> {
  const batch = new WriteBatch();
  for (const [st, rd] of parts) st.stage(batch, rd);
  await batch.write(engine);
  for (const [st, rd] of parts) st.onPersisted(rd);
}

/** Closes the engine, reopens the directory and loads `group` again. */
async function reopen(engine: Engine, dir: string, group: number): Promise<{ engine: LevelEngine; st: DurableRaftStorage }> {
  await engine.close();
  const again = await LevelEngine.open(dir);
  return { engine: again, st: await DurableRaftStorage.open(again, group) };
}

/** The log indices physically on disk for a group. */
async function storedIndices(engine: Engine, group: number): Promise<number[]> {
  const out: number[] = [];
  const { gte, lt } = raftLogBounds(group);
  for await (const [k] of engine.range(gte, lt)) out.push(raftLogIndex(k));
  return out;
}

const allEntries = (st: DurableRaftStorage): Entry[] => (st.lastIndex() < st.firstIndex() ? [] : st.entries(st.firstIndex(), st.lastIndex() + 1, Infinity)!);

describe('DurableRaftStorage on LevelDB', () => {
  it('persists three groups in one synced batch and recovers term, vote, commit and the log exactly', async () => {
    const dir = tempDir();
    const engine = new CountingEngine(await LevelEngine.open(dir));
    const groups = [1, 2, 2 ** 40];
    const stores = await Promise.all(groups.map((g) => DurableRaftStorage.open(engine, g)));
    const parts = stores.map((st, i): [DurableRaftStorage, LogWrites] => [st, writes([ent(1, 1), ent(2, 1, ''), ent(3, 2 + i)], { term: 2 + i, vote: i + 1, commit: 2 })]);
    const batch = new WriteBatch();
    for (const [st, rd] of parts) st.stage(batch, rd);
    // Staged is not persisted: the core must not see it yet.
    expect(stores.map((st) => st.lastIndex())).toEqual([0, 0, 0]);
    await batch.write(engine);
    for (const [st, rd] of parts) st.onPersisted(rd);
    expect([engine.writes, engine.syncs]).toEqual([1, 1]);
    expect(stores.map((st) => st.lastIndex())).toEqual([3, 3, 3]);
    await engine.close();

    const again = await LevelEngine.open(dir);
    for (const [i, g] of groups.entries()) {
      const st = await DurableRaftStorage.open(again, g);
      expect(st.initialState()).toEqual({ hardState: { term: 2 + i, vote: i + 1, commit: 2 }, confState: { voters: [], learners: [] } });
      expect([st.firstIndex(), st.lastIndex()]).toEqual([1, 3]);
      expect(allEntries(st)).toEqual([ent(1, 1), ent(2, 1, ''), ent(3, 2 + i)]);
      expect(st.term(3)).toBe(2 + i);
    }
    await again.close();
  });

  it('syncs unless every staged part says it need not', async () => {
    const engine = await LevelEngine.open(tempDir());
    const [a, b] = await Promise.all([DurableRaftStorage.open(engine, 1), DurableRaftStorage.open(engine, 2)]);
    const lazy = new WriteBatch();
    a.stage(lazy, { entries: [], hardState: { term: 0, vote: 0, commit: 0 }, mustSync: false });
    expect(lazy.sync).toBe(false);
    b.stage(lazy, { entries: [ent(1, 1)], hardState: { term: 1, vote: 0, commit: 0 } });
    expect(lazy.sync).toBe(true);
    await engine.close();
  });

  it('a conflicting suffix overwritten by a shorter one does not come back after a restart', async () => {
    const dir = tempDir();
    const engine = await LevelEngine.open(dir);
    const st = await DurableRaftStorage.open(engine, 7);
    await persist(engine, [[st, writes(range(1, 5, 1), { term: 1, vote: 0, commit: 1 })]]);
    await persist(engine, [[st, writes([ent(2, 3, 'new')], { term: 3, vote: 2, commit: 1 })]]);
    expect(st.lastIndex()).toBe(2);
    const back = await reopen(engine, dir, 7);
    expect(back.st.initialState().hardState).toEqual({ term: 3, vote: 2, commit: 1 });
    expect(allEntries(back.st)).toEqual([ent(1, 1), ent(2, 3, 'new')]);
    expect(await storedIndices(back.engine, 7)).toEqual([1, 2]);
    await back.engine.close();
  });

  it('two Readies staged before either is persisted still truncate exactly', async () => {
    const dir = tempDir();
    const engine = await LevelEngine.open(dir);
    const st = await DurableRaftStorage.open(engine, 3);
    const first = writes(range(1, 6, 1), { term: 1, vote: 1, commit: 0 });
    const second = writes([ent(4, 2, 'x')], { term: 2, vote: 2, commit: 3 });
    await persist(engine, [
      [st, first],
      [st, second],
    ]);
    expect(allEntries(st)).toEqual([...range(1, 3, 1), ent(4, 2, 'x')]);
    const back = await reopen(engine, dir, 3);
    expect(allEntries(back.st)).toEqual(allEntries(st));
    expect(await storedIndices(back.engine, 3)).toEqual([1, 2, 3, 4]);
    await back.engine.close();
  });

  it('a received snapshot replaces the log; only its metadata is stored', async () => {
    const dir = tempDir();
    const engine = await LevelEngine.open(dir);
    const st = await DurableRaftStorage.open(engine, 5);
    await persist(engine, [[st, writes(range(1, 6, 1), { term: 1, vote: 0, commit: 2 })]]);
    const snapshot: Snapshot = { meta: { index: 10, term: 2, conf: { voters: [1, 2, 3], learners: [] } }, data: Uint8Array.of(1, 2, 3) };
    await persist(engine, [[st, writes([ent(11, 2), ent(12, 2)], { term: 2, vote: 0, commit: 10 }, snapshot)]]);
    expect(st.snapshot()).toEqual({ meta: snapshot.meta, data: new Uint8Array(0) });
    const back = await reopen(engine, dir, 5);
    expect([back.st.firstIndex(), back.st.lastIndex()]).toEqual([11, 12]);
    expect(back.st.snapshot().meta).toEqual(snapshot.meta);
    expect(back.st.term(10)).toBe(2);
    expect(back.st.entries(10, 12, Infinity)).toBeUndefined();
    expect(back.st.initialState()).toEqual({ hardState: { term: 2, vote: 0, commit: 10 }, confState: snapshot.meta.conf });
    expect(await storedIndices(back.engine, 5)).toEqual([11, 12]);
    await back.engine.close();
  });

  it('compaction records the snapshot metadata and deletes the covered entries', async () => {
    const dir = tempDir();
    const engine = await LevelEngine.open(dir);
    const st = await DurableRaftStorage.open(engine, 1);
    await persist(engine, [[st, writes([...range(1, 3, 1), ...range(4, 5, 2)], { term: 2, vote: 1, commit: 5 })]]);
    const batch = new WriteBatch();
    const meta = st.stageCompaction(batch, 3, { voters: [1, 2, 3], learners: [4] })!;
    expect(meta).toEqual({ index: 3, term: 1, conf: { voters: [1, 2, 3], learners: [4] } });
    expect(st.stageCompaction(batch, 2, meta.conf)).toBeUndefined(); // already covered by the staged one
    await batch.write(engine);
    expect(st.firstIndex()).toBe(1); // not before onCompacted
    st.onCompacted(meta);
    expect([st.firstIndex(), st.lastIndex()]).toEqual([4, 5]);

    const back = await reopen(engine, dir, 1);
    expect([back.st.firstIndex(), back.st.lastIndex()]).toEqual([4, 5]);
    expect(back.st.snapshot().meta).toEqual(meta);
    expect(back.st.initialState().confState).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(allEntries(back.st)).toEqual(range(4, 5, 2));
    expect(await storedIndices(back.engine, 1)).toEqual([4, 5]);
    await back.engine.close();
  });

  it('a compaction staged after a newer snapshot in the same batch is dropped, not written over it', async () => {
    const dir = tempDir();
    const engine = await LevelEngine.open(dir);
    const st = await DurableRaftStorage.open(engine, 2);
    await persist(engine, [[st, writes(range(1, 5, 1), { term: 1, vote: 0, commit: 5 })]]);
    const snapRd = writes([], { term: 3, vote: 0, commit: 20 }, { meta: { index: 20, term: 3, conf: { voters: [1], learners: [] } }, data: new Uint8Array(0) });
    const batch = new WriteBatch();
    st.stage(batch, snapRd);
    expect(st.stageCompaction(batch, 4, { voters: [1], learners: [] })).toBeUndefined();
    await batch.write(engine);
    st.onPersisted(snapRd);
    const back = await reopen(engine, dir, 2);
    expect(back.st.snapshot().meta.index).toBe(20);
    expect([back.st.firstIndex(), back.st.lastIndex()]).toEqual([21, 20]);
    expect(await storedIndices(back.engine, 2)).toEqual([]);
    await back.engine.close();
  });

  it('refuses to stage a Ready that breaks the log (a broken invariant, not an I/O error)', async () => {
    const engine = await LevelEngine.open(tempDir());
    const st = await DurableRaftStorage.open(engine, 1);
    expect(() => st.stage(new WriteBatch(), writes([ent(3, 1)]))).toThrow(/gap/);
    expect(() => st.stage(new WriteBatch(), writes([ent(1, 1)], { term: 1, vote: 0, commit: 2 }))).toThrow(/commit 2 beyond last index 1/);
    await engine.close();
  });

  it('a RawNode restarted over the reopened storage resumes where it was', async () => {
    const dir = tempDir();
    const engine = await LevelEngine.open(dir);
    const st = await DurableRaftStorage.open(engine, 1);
    const boot = new WriteBatch();
    const bootRd = st.stageBootstrap(boot, [1]);
    await boot.write(engine);
    st.onPersisted(bootRd);

    const node = new RawNode({ ...DEFAULT_CONFIG, id: 1, applied: 0 }, st, new SeededRng(1));
    const drive = async () => {
      while (node.hasReady()) {
        const rd = node.ready();
        await persist(engine, [[st, rd]]);
        node.advance(rd);
      }
    };
    node.campaign();
    await drive();
    for (const text of ['a', 'b', 'c']) node.propose(new TextEncoder().encode(text));
    await drive();
    const before = node.status();
    expect(before.role).toBe('leader');
    const log = allEntries(st);

    const back = await reopen(engine, dir, 1);
    expect(allEntries(back.st)).toEqual(log);
    const restarted = new RawNode({ ...DEFAULT_CONFIG, id: 1, applied: before.applied }, back.st, new SeededRng(1));
    const after = restarted.status();
    expect([after.term, after.vote, after.commit, after.lastIndex]).toEqual([before.term, before.vote, before.commit, before.lastIndex]);
    await back.engine.close();
  });

  describe('refuses a damaged log at open with StorageCorruption', () => {
    /** Persists entries 1..3 (term 1) of group 9 with commit 3, damages the store, and returns what open() threw. */
    async function openDamaged(damage: (engine: LevelEngine) => Promise<void>, setup?: (st: DurableRaftStorage, engine: LevelEngine) => Promise<void>): Promise<Error> {
      const dir = tempDir();
      const engine = await LevelEngine.open(dir);
      const st = await DurableRaftStorage.open(engine, 9);
      await persist(engine, [[st, writes(range(1, 3, 1), { term: 1, vote: 0, commit: 3 })]]);
      await setup?.(st, engine);
      await damage(engine);
      await engine.close();
      const again = await LevelEngine.open(dir);
      try {
        await DurableRaftStorage.open(again, 9);
      } catch (err) {
        expect(err).toMatchObject({ name: 'StorageCorruption', code: 'STORAGE_CORRUPTION' });
        return err as Error;
      } finally {
        await again.close();
      }
      return expect.fail('open() accepted a damaged log');
    }

    const put = (e: Engine, key: Uint8Array, value: Uint8Array) => e.write([{ type: 'put', key, value }], true);

    it('a flipped bit in an entry', async () => {
      const err = await openDamaged(async (e) => {
        const v = (await e.get(raftLogKey(9, 2)))!;
        v[v.length - 1] ^= 0x10;
        await put(e, raftLogKey(9, 2), v);
      });
      expect(err.message).toBe('corrupt log entry 2 of group 9: checksum mismatch');
    });

    it('an entry overwritten with garbage', async () => {
      const err = await openDamaged((e) => put(e, raftLogKey(9, 2), new TextEncoder().encode('garbage!')));
      expect(err.message).toMatch(/^corrupt log entry 2 of group 9: /);
    });

    it('a truncated entry', async () => {
      const err = await openDamaged(async (e) => put(e, raftLogKey(9, 3), (await e.get(raftLogKey(9, 3)))!.subarray(0, 7)));
      expect(err.message).toMatch(/^corrupt log entry 3 of group 9: /);
    });

    it('a missing entry in the middle of the log', async () => {
      const err = await openDamaged((e) => e.write([{ type: 'del', key: raftLogKey(9, 2) }], true));
      expect(err.message).toBe('corrupt log entry 3 of group 9: gap: entries 2..2 are missing');
    });

    it('a missing first entry after a snapshot', async () => {
      const err = await openDamaged(
        (e) => e.write([{ type: 'del', key: raftLogKey(9, 2) }], true),
        async (st, engine) => {
          const batch = new WriteBatch();
          st.onCompacted(st.stageCompaction(batch, 1, { voters: [1], learners: [] })!);
          await batch.write(engine);
        },
      );
      expect(err.message).toMatch(/gap: entries 2..2 are missing/);
    });

    it('an entry stored under the wrong index', async () => {
      const err = await openDamaged((e) => put(e, raftLogKey(9, 3), encodeEntry(ent(4, 1))));
      expect(err.message).toBe('corrupt log entry 3 of group 9: holds entry 4');
    });

    it('a term going backwards', async () => {
      const err = await openDamaged(async (e) => {
        await put(e, raftHardStateKey(9), encodeHardState({ term: 2, vote: 0, commit: 3 }));
        await put(e, raftLogKey(9, 2), encodeEntry(ent(2, 2)));
      });
      expect(err.message).toBe('corrupt log entry 3 of group 9: term 1 after term 2');
    });

    it('a hard state committing past the log', async () => {
      const err = await openDamaged((e) => put(e, raftHardStateKey(9), encodeHardState({ term: 1, vote: 0, commit: 10 })));
      expect(err.message).toBe('corrupt hard state of group 9: commit 10 beyond last index 3');
    });

    it('a hard state committing past an empty log after its snapshot', async () => {
      const err = await openDamaged(async (e) => {
        await put(e, snapshotMetaKey(9), encodeSnapshotMeta({ index: 3, term: 1, conf: { voters: [1], learners: [] } }));
        await e.write([1, 2, 3].map((i) => ({ type: 'del' as const, key: raftLogKey(9, i) })), true);
        await put(e, raftHardStateKey(9), encodeHardState({ term: 1, vote: 0, commit: 4 }));
      });
      expect(err.message).toBe('corrupt hard state of group 9: commit 4 beyond last index 3');
    });

    it('a hard state whose term is below the log', async () => {
      const err = await openDamaged((e) => put(e, raftHardStateKey(9), encodeHardState({ term: 0, vote: 0, commit: 3 })));
      expect(err.message).toMatch(/term 0 below the log's last term 1/);
    });

    it('a damaged hard state or snapshot metadata', async () => {
      const flip = async (e: Engine, key: Uint8Array) => {
        const v = (await e.get(key)) ?? encodeSnapshotMeta({ index: 0, term: 0, conf: { voters: [], learners: [] } });
        v[6] ^= 1;
        await put(e, key, v);
      };
      expect((await openDamaged((e) => flip(e, raftHardStateKey(9)))).message).toBe('corrupt hard state of group 9: checksum mismatch');
      expect((await openDamaged((e) => flip(e, snapshotMetaKey(9)))).message).toBe('corrupt snapshot metadata of group 9: checksum mismatch');
    });
  });
});
