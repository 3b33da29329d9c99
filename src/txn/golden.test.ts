/**
 * Golden traces (after etcd's datadriven interaction tests): each file in
 * testdata/ is a script run against one fresh range, a block per command:
 *
 *   # comment
 *   <command> <arg>=<value> ...
 *   ----
 *   <the output, one or more lines, up to a blank line>
 *
 * Commands (timestamps are physical milliseconds `N`, or `N.L` with a logical
 * part, or `latest`; a value `c*n` is the character c n times):
 *
 *   kv-put key= value= ts= [floor=]         kv-delete key= ts= [floor=]
 *   kv-cas key= [expect=] [value=] ts= [floor=]    (no expect: absent; no value: delete)
 *   prewrite start= primary= [ttl=3000] [one-pc] [floor=] put=<key>:<value> ... delete=<key> ...
 *   commit start= commit= keys=a,b          rollback start= keys=a,b
 *   check-txn-status primary= start= now=   heartbeat primary= start= ttl=
 *   resolve-lock start= commit= [keys=a,b]  (commit=0 rolls back; no keys: scan the range)
 *   gc safe-point=
 *   get key= ts=                            scan [start=] [end=] ts= [limit=]
 *   dump                                    (every record of the range, by key)
 *
 * TXN_REWRITE=1 rewrites the outputs in place, for review as a diff.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TxnCommand } from './index.js';
import type { M } from '../../test/support/txn-harness.js';
import {
  bytes,
  checkTxnStatus,
  commit,
  formatLock,
  formatResult,
  formatValue,
  gc,
  heartbeat,
  kvCas,
  kvDelete,
  kvPut,
  parseTs,
  parseValue,
  prewrite,
  resolveLock,
  rollback,
  text,
  TxnHarness,
} from '../../test/support/txn-harness.js';

const DIR = new URL('./testdata/', import.meta.url);
const REWRITE = process.env.TXN_REWRITE === '1';

/** A command line's arguments: `name=value` (repeatable) or a bare flag; each must be used once read. */
class Args {
  private readonly pairs: [string, string | undefined][];
  private readonly used = new Set<number>();

  constructor(tokens: string[]) {
    this.pairs = tokens.map((t) => {
      const at = t.indexOf('=');
      return at < 0 ? [t, undefined] : [t.slice(0, at), t.slice(at + 1)];
    });
  }

  all(name: string): string[] {
    const out: string[] = [];
    this.pairs.forEach(([n, v], i) => {
      if (n !== name || v === undefined) return;
      this.used.add(i);
      out.push(v);
    });
    return out;
  }

  opt(name: string): string | undefined {
    const vs = this.all(name);
    if (vs.length > 1) throw new Error(`${name} given ${vs.length} times`);
    return vs[0];
  }

  req(name: string): string {
    const v = this.opt(name);
    if (v === undefined) throw new Error(`missing ${name}=`);
    return v;
  }

  ts(name: string, fallback?: bigint): bigint {
    const v = this.opt(name);
    if (v === undefined && fallback !== undefined) return fallback;
    return parseTs(v ?? this.req(name));
  }

  flag(name: string): boolean {
    const i = this.pairs.findIndex(([n, v]) => n === name && v === undefined);
    if (i >= 0) this.used.add(i);
    return i >= 0;
  }

  keys(): string[] {
    const v = this.opt('keys');
    return v === undefined || v === '' ? [] : v.split(',');
  }

  done(): void {
    const left = this.pairs.filter((_, i) => !this.used.has(i)).map(([n]) => n);
    if (left.length > 0) throw new Error(`unknown argument(s): ${left.join(' ')}`);
  }
}

function command(name: string, a: Args): TxnCommand | undefined {
  const value = (n: string) => {
    const v = a.opt(n);
    return v === undefined ? undefined : parseValue(v);
  };
  switch (name) {
    case 'kv-put':
      return kvPut(a.req('key'), parseValue(a.req('value')), a.ts('ts'), a.ts('floor', 0n));
    case 'kv-delete':
      return kvDelete(a.req('key'), a.ts('ts'), a.ts('floor', 0n));
    case 'kv-cas':
      return kvCas(a.req('key'), value('expect'), value('value'), a.ts('ts'), a.ts('floor', 0n));
    case 'prewrite': {
      const muts: M[] = [
        ...a.all('put').map((p): M => [p.slice(0, p.indexOf(':')), parseValue(p.slice(p.indexOf(':') + 1))]),
        ...a.all('delete').map((k): M => [k]),
      ];
      return prewrite(a.ts('start'), a.req('primary'), muts, { ttlMs: Number(a.opt('ttl') ?? 3000), onePc: a.flag('one-pc'), floor: a.ts('floor', 0n) });
    }
    case 'commit':
      return commit(a.ts('start'), a.ts('commit'), a.keys());
    case 'rollback':
      return rollback(a.ts('start'), a.keys());
    case 'check-txn-status':
      return checkTxnStatus(a.req('primary'), a.ts('start'), a.ts('now'));
    case 'heartbeat':
      return heartbeat(a.req('primary'), a.ts('start'), Number(a.req('ttl')));
    case 'resolve-lock':
      return resolveLock(a.ts('start'), a.ts('commit'), a.keys());
    case 'gc':
      return gc(a.ts('safe-point'));
    default:
      return undefined;
  }
}

async function run(h: TxnHarness, line: string): Promise<string[]> {
  const [name, ...tokens] = line.trim().split(/\s+/);
  const a = new Args(tokens);
  try {
    const cmd = command(name, a);
    if (cmd) {
      a.done();
      return formatResult(await h.apply(cmd));
    }
    switch (name) {
      case 'get': {
        const key = a.req('key');
        const ts = a.ts('ts');
        a.done();
        return formatResult(await h.get(bytes(key), ts));
      }
      case 'scan': {
        const r = await h.scan(a.opt('start') ?? '', a.opt('end') ?? '', a.ts('ts'), Number(a.opt('limit') ?? Number.MAX_SAFE_INTEGER));
        a.done();
        return [...r.items.map((i) => `${text(i.key)}=${formatValue(i.value)}`), ...r.locks.map((l) => `locked ${formatLock(l)}`), `more=${r.more}`];
      }
      case 'dump': {
        a.done();
        const lines = await h.dump();
        return lines.length > 0 ? lines : ['<empty>'];
      }
      default:
        throw new Error(`unknown command ${name}`);
    }
  } catch (e) {
    return [`error: ${(e as Error).message}`];
  }
}

/** Runs the script and returns it with every output replaced by what the commands answer now. */
async function replay(file: string, src: string): Promise<string> {
  const h = new TxnHarness();
  const lines = src.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    if (line.trim() === '' || line.startsWith('#')) {
      out.push(line);
      i++;
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`${file}:${i + 2}: expected ---- after the command`);
    out.push(line, '----', ...(await run(h, line)));
    for (i += 2; i < lines.length && lines[i] !== ''; i++);
  }
  return out.join('\n');
}

describe('golden traces (src/txn/testdata)', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.txt'));

  it('finds the scripts', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s', async (file) => {
    const path = new URL(file, DIR);
    const src = readFileSync(path, 'utf8');
    const got = await replay(file, src);
    if (REWRITE && got !== src) writeFileSync(path, got);
    else expect(got).toBe(src);
  });
});
