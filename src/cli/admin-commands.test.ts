/**
 * The admin and kv commands against a test double of the gateway: a tiny
 * node:http server that answers canned bodies and records what it was sent.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DbError } from '../common/index.js';
import { moveCommand, rangesCommand, rebalanceCommand, splitCommand, storesCommand, transferLeaderCommand } from './admin-commands.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { parseCommandArgs } from './args.js';
import { GATEWAY_OPTIONS, GatewayUnreachableError } from './gateway-http.js';
import { KV_OPTIONS, kvCommand } from './kv-command.js';

interface Canned {
  readonly status: number;
  readonly body: unknown;
}
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: unknown;
}

const RANGES = {
  ranges: [
    { id: 1, start: '', end: 'g', epoch: { version: 2, confVer: 5 }, replicas: [{ store: 3, role: 'voter' }, { store: 1, role: 'voter' }, { store: 2, role: 'voter' }], leader: 1, approxBytes: 1048576, approxKeys: 1200 },
    { id: 12, start: 'g', end: '', epoch: { version: 3, confVer: 7 }, replicas: [{ store: 1, role: 'voter' }, { store: 2, role: 'voter' }, { store: 4, role: 'learner' }], leader: null, approxBytes: 0, approxKeys: 0 },
  ],
};
const STORES = {
  stores: [
    { id: 1, address: '127.0.0.1:8091', pid: 4242, state: 'up', ranges: 2, leaders: 1 },
    { id: 2, address: '127.0.0.1:8092', pid: null, state: 'down', ranges: 10, leaders: 0 },
  ],
};

let server: Server;
let url: string;
let routes: Map<string, Canned>;
let seen: Seen[];
let out: string[];
let err: string[];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', body: text === '' ? undefined : JSON.parse(text) });
      const key = `${req.method} ${req.url}`;
      const canned = routes.get(key) ?? { status: 404, body: { error: `no route ${key}`, code: 'NOT_FOUND' } };
      res.writeHead(canned.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(canned.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  routes = new Map();
  seen = [];
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  vi.spyOn(console, 'error').mockImplementation((s: unknown) => void err.push(String(s)));
  vi.stubEnv('RAFTSHARD_GATEWAY', '');
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** argv parsed as main parses it for a command that takes arguments. */
function parse<O extends OptionSpec>(argv: readonly string[], options: O): ParsedArgs<O> {
  return parseCommandArgs(argv, options, 'usage', true);
}

/** An admin command's argv as the user types it after the command name, pointed at the test gateway. */
function args(...argv: string[]): ParsedArgs<typeof GATEWAY_OPTIONS> {
  return parse(['--gateway', url, ...argv], GATEWAY_OPTIONS);
}

/** The same for `kv`, which also takes --limit. */
function kvArgs(...argv: string[]): ParsedArgs<typeof KV_OPTIONS> {
  return parse(['--gateway', url, ...argv], KV_OPTIONS);
}

function answer(route: string, status: number, body: unknown): void {
  routes.set(route, { status, body });
}

describe('ranges', () => {
  it('prints an aligned table with -inf/+inf, sorted replicas, learners and no leader', async () => {
    answer('GET /admin/ranges', 200, RANGES);
    expect(await rangesCommand(args())).toBe(0);
    expect(out.join('\n').split('\n')).toEqual([
      'ID  START  END   VERSION  CONFVER  REPLICAS  LEADER    BYTES  KEYS',
      ' 1  -inf   g           2        5  1,2,3          1  1048576  1200',
      '12  g      +inf        3        7  1,2,4(l)       -        0     0',
    ]);
    expect(err).toEqual([]);
  });

  it('--json prints the body as is, on one line', async () => {
    answer('GET /admin/ranges', 200, RANGES);
    expect(await rangesCommand(args('--json'))).toBe(0);
    expect(out).toEqual([JSON.stringify(RANGES)]);
  });

  it('quotes boundary keys that would read as something else', async () => {
    answer('GET /admin/ranges', 200, { ranges: [{ id: 1, start: '-inf', end: 'a b\n', epoch: { version: 1, confVer: 1 }, replicas: [], leader: 2, approxBytes: 0, approxKeys: 0 }] });
    expect(await rangesCommand(args())).toBe(0);
    expect(out[0].split('\n')).toEqual([
      'ID  START   END      VERSION  CONFVER  REPLICAS  LEADER  BYTES  KEYS',
      ' 1  "-inf"  "a b\\n"        1        1  -              2      0     0',
    ]);
  });

  it('honours RAFTSHARD_GATEWAY when --gateway is absent', async () => {
    vi.stubEnv('RAFTSHARD_GATEWAY', url.replace('http://', ''));
    answer('GET /admin/ranges', 200, { ranges: [] });
    expect(await rangesCommand(parse([], GATEWAY_OPTIONS))).toBe(0);
    expect(out).toEqual(['ID  START  END  VERSION  CONFVER  REPLICAS  LEADER  BYTES  KEYS']);
  });
});

describe('stores', () => {
  it('prints an aligned table', async () => {
    answer('GET /admin/stores', 200, STORES);
    expect(await storesCommand(args())).toBe(0);
    expect(out.join('\n').split('\n')).toEqual([
      'ID  ADDRESS          PID  STATE  RANGES  LEADERS',
      ' 1  127.0.0.1:8091  4242  up          2        1',
      ' 2  127.0.0.1:8092     -  down       10        0',
    ]);
  });
});

describe('split, move, transfer-leader, rebalance', () => {
  it('split sends the key and prints both ranges', async () => {
    answer('POST /admin/split', 200, { left: { ...RANGES.ranges[0], end: 'm' }, right: { ...RANGES.ranges[0], id: 5, start: 'm' } });
    expect(await splitCommand(args('m'))).toBe(0);
    expect(seen).toEqual([{ method: 'POST', url: '/admin/split', body: { key: 'm' } }]);
    expect(out[0].split('\n').map((l) => l.slice(0, 14).trimEnd())).toEqual(['ID  START  END', ' 1  -inf   m', ' 5  m      g']);
  });

  it('move sends integer ids and prints the new descriptor', async () => {
    answer('POST /admin/move', 200, RANGES.ranges[1]);
    expect(await moveCommand(args('12', '3', '4'))).toBe(0);
    expect(seen[0].body).toEqual({ range: 12, from: 3, to: 4 });
    expect(out[0].split('\n')[1]).toMatch(/^12 {2}g +\+inf/);
  });

  it('transfer-leader sends {range, to}', async () => {
    answer('POST /admin/transfer-leader', 200, { ok: true });
    expect(await transferLeaderCommand(args('7', '2'))).toBe(0);
    expect(seen[0].body).toEqual({ range: 7, to: 2 });
    expect(out).toEqual(['store 2 now leads range 7']);
  });

  it('rebalance sends no body and lists the moves', async () => {
    answer('POST /admin/rebalance', 200, { moves: [{ kind: 'move', range: 3, from: 1, to: 4 }] });
    expect(await rebalanceCommand(args())).toBe(0);
    expect(seen[0].body).toBeUndefined();
    expect(out).toEqual(['rebalance: 1 move\n  kind=move range=3 from=1 to=4']);
  });

  it('--json prints each body as is', async () => {
    answer('POST /admin/rebalance', 200, { moves: [] });
    expect(await rebalanceCommand(args('--json'))).toBe(0);
    expect(out).toEqual(['{"moves":[]}']);
  });
});

describe('errors', () => {
  it('a gateway error body goes to stderr as "raftshard: <error> (<code>)", exit 1', async () => {
    answer('POST /admin/move', 404, { error: 'unknown range 99', code: 'NOT_FOUND' });
    expect(await moveCommand(args('99', '1', '2'))).toBe(1);
    expect(err).toEqual(['raftshard: unknown range 99 (NOT_FOUND)']);
    expect(out).toEqual([]);
  });

  it('errors go to stderr with --json too', async () => {
    answer('GET /admin/stores', 503, { error: 'no quorum', code: 'UNAVAILABLE' });
    expect(await storesCommand(args('--json'))).toBe(1);
    expect(err).toEqual(['raftshard: no quorum (UNAVAILABLE)']);
  });

  it('an unreachable gateway is an error naming the URL (exit 1 in main: not a DbError)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = rangesCommand(parse(['--gateway', `http://127.0.0.1:${port}`], GATEWAY_OPTIONS));
    await expect(run).rejects.toThrow(GatewayUnreachableError);
    await expect(run).rejects.toThrow(`cannot reach the gateway at http://127.0.0.1:${port}/: ECONNREFUSED`);
  });

  it.each([
    ['move with too few arguments', () => moveCommand(args('1', '2')), /usage: raftshard move RANGE FROM TO/],
    ['move with a non-integer id', () => moveCommand(args('1', 'two', '3')), /FROM must be a non-negative integer, not "two"/],
    ['transfer-leader with a negative id', () => transferLeaderCommand(args('--', '1', '-2')), /STORE must be a non-negative integer/],
    ['split without a key', () => splitCommand(args()), /usage: raftshard split KEY/],
    ['ranges with an extra argument', () => rangesCommand(args('x')), /usage: raftshard ranges/],
    ['an unknown option', () => storesCommand(args('--verbose')), /Unknown option '--verbose'/],
    ['--gateway without a URL', () => rangesCommand(parse(['--gateway'], GATEWAY_OPTIONS)), /'--gateway <value>' argument missing/],
    ['a gateway URL that is not http', () => rangesCommand(parse(['--gateway', 'ftp://x'], GATEWAY_OPTIONS)), /must be http/],
    ['kv without a subcommand', () => kvCommand(kvArgs()), /kv needs a subcommand/],
    ['kv with an unknown subcommand', () => kvCommand(kvArgs('list')), /unknown kv subcommand "list"/],
    ['kv put without a value', () => kvCommand(kvArgs('put', 'k')), /usage: raftshard kv put KEY VALUE/],
    ['kv get of the empty key', () => kvCommand(kvArgs('get', '')), /KEY must not be empty/],
    ['kv get with --limit', () => kvCommand(kvArgs('get', 'k', '--limit', '5')), /--limit applies only to kv scan/],
    ['kv scan with a bad limit', () => kvCommand(kvArgs('scan', '--limit', '0')), /--limit must be an integer >= 1/],
    ['an admin command given --limit', () => rangesCommand(args('--limit', '5')), /Unknown option '--limit'/],
  ])('%s is a usage error (DbError: exit 2) and sends nothing', async (_name, run, message) => {
    // A bad option throws while parsing, before the command runs.
    const failure = Promise.resolve().then(run);
    await expect(failure).rejects.toThrow(DbError);
    await expect(failure).rejects.toThrow(message);
    expect(seen).toEqual([]);
  });
});

describe('kv', () => {
  it('get prints the value', async () => {
    answer('GET /kv/k1', 200, { key: 'k1', value: 'v 1' });
    expect(await kvCommand(kvArgs('get', 'k1'))).toBe(0);
    expect(out).toEqual(['v 1']);
  });

  it('get of a missing key: message on stderr, exit 1', async () => {
    answer('GET /kv/nope', 404, { error: 'key "nope" not found', code: 'NOT_FOUND' });
    expect(await kvCommand(kvArgs('get', 'nope'))).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual(['raftshard: key "nope" not found (NOT_FOUND)']);
  });

  it('keys travel URL-encoded, "." and ".." included', async () => {
    for (const [key, path] of [
      ['a/b ?&', '/kv/a%2Fb%20%3F%26'],
      ['..', '/kv/..'],
      ['ключ', '/kv/%D0%BA%D0%BB%D1%8E%D1%87'],
    ]) {
      answer(`GET ${path}`, 200, { key, value: 'x' });
      expect(await kvCommand(kvArgs('get', key))).toBe(0);
    }
    expect(seen.map((s) => s.url)).toEqual(['/kv/a%2Fb%20%3F%26', '/kv/..', '/kv/%D0%BA%D0%BB%D1%8E%D1%87']);
  });

  it('--json takes no value: the next word stays an argument', async () => {
    answer('GET /kv/k', 200, { key: 'k', value: 'v' });
    expect(await kvCommand(kvArgs('get', '--json', 'k'))).toBe(0);
    expect(seen.map((s) => s.url)).toEqual(['/kv/k']);
    expect(out).toEqual(['{"key":"k","value":"v"}']);
  });

  it('keys and values that start with "-" go after "--"', async () => {
    answer('PUT /kv/-k', 200, { ok: true });
    expect(await kvCommand(kvArgs('put', '--', '-k', '--json'))).toBe(0);
    expect(seen).toEqual([{ method: 'PUT', url: '/kv/-k', body: { value: '--json' } }]);
    expect(out).toEqual(['OK']);
  });

  it('put sends {"value"} and prints OK; --json prints the body', async () => {
    answer('PUT /kv/k', 200, { ok: true });
    expect(await kvCommand(kvArgs('put', 'k', ''))).toBe(0);
    expect(await kvCommand(kvArgs('put', 'k', 'v', '--json'))).toBe(0);
    expect(seen.map((s) => s.body)).toEqual([{ value: '' }, { value: 'v' }]);
    expect(out).toEqual(['OK', '{"ok":true}']);
  });

  it('del says whether a key was deleted', async () => {
    answer('DELETE /kv/a', 200, { ok: true, deleted: true });
    answer('DELETE /kv/b', 200, { ok: true, deleted: false });
    expect(await kvCommand(kvArgs('del', 'a'))).toBe(0);
    expect(await kvCommand(kvArgs('del', 'b'))).toBe(0);
    expect(out).toEqual(['deleted', 'not found, nothing deleted']);
  });

  it('scan passes start, end and limit, and prints a table with a count', async () => {
    answer('GET /kv?start=a%20b&end=z&limit=2', 200, { items: [{ key: 'a b', value: '1' }, { key: 'c', value: 'line\nbreak' }], more: true });
    answer('GET /kv?start=&end=', 200, { items: [], more: false });
    expect(await kvCommand(kvArgs('scan', 'a b', 'z', '--limit', '2'))).toBe(0);
    expect(await kvCommand(kvArgs('scan'))).toBe(0);
    expect(out).toEqual([
      'KEY  VALUE\na b  1\nc    "line\\nbreak"\n(2 keys; more follow: raise --limit or scan on from after the last key)', //
      'KEY  VALUE\n(0 keys)',
    ]);
  });
});
