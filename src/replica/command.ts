/**
 * What travels through a range's Raft log, in binary. Every replica applies
 * the same bytes to the same state and so computes the same result (a failed
 * cas or a conflict is a result, not an error).
 *
 *   cmd    := 5:u8 requestId:bytes flags:u8 command   (the command as the range's state machine writes it; flags: 1 = a client retry, look the id up first)
 *   split  := 3:u8 requestId:bytes splitKey:bytes newRangeId:u64 version:u64 confVer:u64
 *   rotate := 4:u8 (start a new generation of exactly-once records, drop the one before the last)
 */
import { ByteReader, ByteWriter, DbError } from '../common/index.js';
import type { RangeStateMachine } from './state-machine.js';

/** A client command as proposed by a range leader. */
export interface CommandEntry<C> {
  readonly requestId: string;
  readonly cmd: C;
  /** A client retry: look the request id up before applying. */
  readonly retry: boolean;
}

/** Splits the range at `splitKey` if it is still at epoch (version, confVer); the right half becomes range `newRangeId`. */
export interface SplitCommand {
  readonly requestId: string;
  readonly splitKey: Uint8Array;
  readonly newRangeId: number;
  readonly version: number;
  readonly confVer: number;
}

const SPLIT_OP = 3;
const ROTATE_OP = 4;
const CMD_OP = 5;

/** The rotate command: the same bytes every time. */
export const ROTATE_DEDUP = Uint8Array.of(ROTATE_OP);

/** What applying an entry came to: the command's result, or `stale` when its keys (or the split) no longer belong to the range, and nothing applied. */
export type EntryResult<R> = { readonly stale: false; readonly result: R } | { readonly stale: true };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const corrupt = (why: string) => new DbError('CORRUPT_COMMAND', `bad command in log: ${why}`);

/** One buffer per entry: the header, then the command as the state machine writes it. */
export function encodeCommandEntry<C>(e: CommandEntry<C>, machine: RangeStateMachine<C, unknown>): Uint8Array {
  const w = new ByteWriter(160);
  w.u8(CMD_OP);
  w.bytes(encoder.encode(e.requestId));
  w.u8(e.retry ? 1 : 0);
  machine.writeCommand(w, e.cmd);
  return w.finish().slice();
}

export function encodeSplit(c: SplitCommand): Uint8Array {
  const w = new ByteWriter(64 + c.splitKey.byteLength);
  w.u8(SPLIT_OP);
  w.bytes(encoder.encode(c.requestId));
  w.bytes(c.splitKey);
  w.u64(c.newRangeId);
  w.u64(c.version);
  w.u64(c.confVer);
  return w.finish().slice();
}

export type Entry<C> = { kind: 'cmd'; entry: CommandEntry<C> } | { kind: 'split'; split: SplitCommand } | { kind: 'rotate' };

export function decodeEntry<C>(data: Uint8Array, machine: RangeStateMachine<C, unknown>): Entry<C> {
  if (data[0] === ROTATE_OP && data.byteLength === 1) return { kind: 'rotate' };
  const r = new ByteReader(data, corrupt);
  const op = r.u8();
  if (op === SPLIT_OP) {
    const split = { requestId: decoder.decode(r.bytes()), splitKey: r.bytes(), newRangeId: r.u64(), version: r.u64(), confVer: r.u64() };
    r.end();
    return { kind: 'split', split };
  }
  if (op !== CMD_OP) throw corrupt(`unknown entry op ${op}`);
  const requestId = decoder.decode(r.bytes());
  const retry = r.u8() === 1;
  const cmd = machine.readCommand(data.subarray(data.byteLength - r.remaining), corrupt);
  return { kind: 'cmd', entry: { requestId, cmd, retry } };
}

