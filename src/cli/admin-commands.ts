/**
 * The admin commands against a gateway (CONTRACT.md §2.3): `ranges`,
 * `stores`, `split`, `move`, `transfer-leader`, `rebalance`, `decommission`. Each prints a
 * table or a line for humans, or with --json the gateway's body as is.
 */
import { systemTimers } from '../runtime/index.js';
import type { ParsedArgs } from './args.js';
import type { GATEWAY_OPTIONS } from './gateway-http.js';
import { callGateway, expectArgs, GATEWAY_OPTIONS_HELP, gatewayOptions, printGatewayCall, usageError } from './gateway-http.js';
import type { Column } from './table.js';
import { displayText, formatTable } from './table.js';

export const RANGES_HELP = `Usage: raftshard ranges [--gateway URL] [--json]

Lists the ranges in key order: id, start (inclusive) and end (exclusive) key
with -inf/+inf for unbounded, epoch version and conf version, replicas by
store id (a learner shown as "4(l)"), the leader's store, approximate bytes
and keys.

Options:
${GATEWAY_OPTIONS_HELP}`;

export const STORES_HELP = `Usage: raftshard stores [--gateway URL] [--json]

Lists the stores: id, address, pid, state (up, down, decommissioning,
removed), how
many range replicas each holds and how many of them it leads.

Options:
${GATEWAY_OPTIONS_HELP}`;

export const SPLIT_HELP = `Usage: raftshard split KEY [--gateway URL] [--json]

Splits the range holding KEY at KEY: KEY becomes the start of the new right
range. At an existing boundary it changes nothing. Prints the two ranges.

Options:
${GATEWAY_OPTIONS_HELP}`;

export const MOVE_HELP = `Usage: raftshard move RANGE FROM TO [--gateway URL] [--json]

Moves the replica of range RANGE on store FROM to store TO without losing
availability, and prints the range once the move is done.

Options:
${GATEWAY_OPTIONS_HELP}`;

export const TRANSFER_LEADER_HELP = `Usage: raftshard transfer-leader RANGE STORE [--gateway URL] [--json]

Makes the replica of range RANGE on store STORE its leader; returns when done.

Options:
${GATEWAY_OPTIONS_HELP}`;

export const DECOMMISSION_HELP = `Usage: raftshard decommission STORE [--gateway URL] [--json]

Takes store STORE out of the cluster for good: it gets no new replicas, each
of its replicas moves to another up store (one at a time, without losing
availability), and then it is marked removed. Prints how many replicas are
left every few seconds (on stderr), and the moves once done. Running it again
for a store already removed changes nothing.

Options:
${GATEWAY_OPTIONS_HELP}`;

export const REBALANCE_HELP = `Usage: raftshard rebalance [--gateway URL] [--json]

Balances replicas and leaders across all up stores; prints the moves made
once they are done.

Options:
${GATEWAY_OPTIONS_HELP}`;

/** A range descriptor as the gateway sends it; fields are optional so that a partial one still prints. */
interface RangeView {
  readonly id?: number;
  readonly start?: string;
  readonly end?: string;
  readonly epoch?: { readonly version?: number; readonly confVer?: number };
  readonly replicas?: readonly ReplicaView[];
  readonly leader?: number | null;
  readonly approxBytes?: number;
  readonly approxKeys?: number;
}

interface ReplicaView {
  readonly store?: number;
  readonly role?: string;
}

interface StoreView {
  readonly id?: number;
  readonly address?: string;
  readonly pid?: number | null;
  readonly state?: string;
  readonly ranges?: number;
  readonly leaders?: number;
}

const RANGE_COLUMNS: readonly Column[] = [
  { header: 'ID', align: 'right' },
  { header: 'START' },
  { header: 'END' },
  { header: 'VERSION', align: 'right' },
  { header: 'CONFVER', align: 'right' },
  { header: 'REPLICAS' },
  { header: 'LEADER', align: 'right' },
  { header: 'BYTES', align: 'right' },
  { header: 'KEYS', align: 'right' },
];

const STORE_COLUMNS: readonly Column[] = [
  { header: 'ID', align: 'right' },
  { header: 'ADDRESS' },
  { header: 'PID', align: 'right' },
  { header: 'STATE' },
  { header: 'RANGES', align: 'right' },
  { header: 'LEADERS', align: 'right' },
];

/** The parsed argv of an admin command: the gateway options and the positional arguments. */
type AdminArgs = ParsedArgs<typeof GATEWAY_OPTIONS>;

export async function rangesCommand(args: AdminArgs): Promise<number> {
  const opts = gatewayOptions(args.values, 'ranges');
  expectArgs(args.positionals, 'ranges', 0, 0);
  return printGatewayCall(opts, 'GET', '/admin/ranges', undefined, (body) => rangesTable(listOf(body, 'ranges') as RangeView[]));
}

export async function storesCommand(args: AdminArgs): Promise<number> {
  const opts = gatewayOptions(args.values, 'stores');
  expectArgs(args.positionals, 'stores', 0, 0);
  return printGatewayCall(opts, 'GET', '/admin/stores', undefined, (body) => storesTable(listOf(body, 'stores') as StoreView[]));
}

export async function splitCommand(args: AdminArgs): Promise<number> {
  const opts = gatewayOptions(args.values, 'split');
  const [key] = expectArgs(args.positionals, 'split KEY', 1, 1);
  if (key === '') throw usageError('split', 'KEY must not be empty');
  return printGatewayCall(opts, 'POST', '/admin/split', { key }, (body) => {
    const { left, right } = (body ?? {}) as { left?: RangeView; right?: RangeView };
    return rangesTable([left ?? {}, right ?? {}]);
  });
}

export async function moveCommand(args: AdminArgs): Promise<number> {
  const opts = gatewayOptions(args.values, 'move');
  const [range, from, to] = expectArgs(args.positionals, 'move RANGE FROM TO', 3, 3);
  const body = { range: idArg(range, 'RANGE', 'move'), from: idArg(from, 'FROM', 'move'), to: idArg(to, 'TO', 'move') };
  return printGatewayCall(opts, 'POST', '/admin/move', body, (res) => rangesTable([(res ?? {}) as RangeView]));
}

export async function transferLeaderCommand(args: AdminArgs): Promise<number> {
  const opts = gatewayOptions(args.values, 'transfer-leader');
  const [range, store] = expectArgs(args.positionals, 'transfer-leader RANGE STORE', 2, 2);
  const body = { range: idArg(range, 'RANGE', 'transfer-leader'), to: idArg(store, 'STORE', 'transfer-leader') };
  return printGatewayCall(opts, 'POST', '/admin/transfer-leader', body, () => `store ${body.to} now leads range ${body.range}`);
}

export async function rebalanceCommand(args: AdminArgs): Promise<number> {
  const opts = gatewayOptions(args.values, 'rebalance');
  expectArgs(args.positionals, 'rebalance', 0, 0);
  return printGatewayCall(opts, 'POST', '/admin/rebalance', undefined, (body) => {
    const moves = listOf(body, 'moves');
    if (moves.length === 0) return 'rebalance: already balanced, no moves';
    return [`rebalance: ${moves.length} move${moves.length === 1 ? '' : 's'}`, ...moves.map((m) => `  ${describeMove(m)}`)].join('\n');
  });
}

export async function decommissionCommand(args: AdminArgs): Promise<number> {
  const opts = gatewayOptions(args.values, 'decommission');
  const [store] = expectArgs(args.positionals, 'decommission STORE', 1, 1);
  const id = idArg(store, 'STORE', 'decommission');
  // The progress line: the store's replica count, as the placement driver reports it.
  const progress = systemTimers.setInterval(() => {
    void callGateway(opts.url, 'GET', '/admin/stores').then(
      (res) => {
        const s = (listOf(res.body, 'stores') as StoreView[]).find((x) => x.id === id);
        if (s) console.error(`decommission: store ${id} is ${cell(s.state)}, ${cell(s.ranges)} replica(s) left`);
      },
      () => {},
    );
  }, PROGRESS_EVERY_MS);
  try {
    return await printGatewayCall(opts, 'POST', '/admin/decommission', { store: id }, (body) => {
      const moves = listOf(body, 'moves');
      return [`decommission: store ${id} removed after ${moves.length} move${moves.length === 1 ? '' : 's'}`, ...moves.map((m) => `  ${describeMove(m)}`)].join('\n');
    });
  } finally {
    systemTimers.clearInterval(progress);
  }
}

const PROGRESS_EVERY_MS = 3_000;

function rangesTable(ranges: readonly RangeView[]): string {
  const rows = ranges.map((r) => [
    cell(r.id),
    boundary(r.start, '-inf'),
    boundary(r.end, '+inf'),
    cell(r.epoch?.version),
    cell(r.epoch?.confVer),
    replicaList(r.replicas ?? []),
    cell(r.leader),
    cell(r.approxBytes),
    cell(r.approxKeys),
  ]);
  return formatTable(RANGE_COLUMNS, rows);
}

function storesTable(stores: readonly StoreView[]): string {
  const rows = stores.map((s) => [cell(s.id), s.address === undefined ? '-' : displayText(s.address), cell(s.pid), cell(s.state), cell(s.ranges), cell(s.leaders)]);
  return formatTable(STORE_COLUMNS, rows);
}

/** "" is unbounded (CONTRACT.md §2.3); a key that reads like the marker is quoted. */
function boundary(key: string | undefined, unbounded: '-inf' | '+inf'): string {
  if (key === undefined) return '-';
  if (key === '') return unbounded;
  return key === '-inf' || key === '+inf' ? JSON.stringify(key) : displayText(key);
}

/** Voters and learners by store id, e.g. "1,2,3,4(l)". */
function replicaList(replicas: readonly ReplicaView[]): string {
  if (replicas.length === 0) return '-';
  return [...replicas]
    .sort((a, b) => (a.store ?? 0) - (b.store ?? 0))
    .map((r) => `${cell(r.store)}${r.role === 'learner' ? '(l)' : ''}`)
    .join(',');
}

/** A move's shape is the scheduler's; print its fields as key=value. */
function describeMove(move: unknown): string {
  if (typeof move !== 'object' || move === null) return JSON.stringify(move);
  return Object.entries(move)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** body[field] when it is an array, else empty: a malformed answer prints as nothing rather than a crash. */
function listOf(body: unknown, field: string): unknown[] {
  const list = (body as Record<string, unknown> | null)?.[field];
  return Array.isArray(list) ? list : [];
}

function cell(v: unknown): string {
  return v === undefined || v === null ? '-' : String(v);
}

/** Range and store ids are non-negative JSON integers. */
function idArg(text: string, name: string, command: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw usageError(command, `${name} must be a non-negative integer, not "${text}"`);
  return n;
}
