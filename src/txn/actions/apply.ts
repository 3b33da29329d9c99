/** Dispatch of a transactional command to its action. */
import type { MvccTxn } from '../mvcc/txn.js';
import { checkTxnStatus, heartbeat } from './check-txn-status.js';
import { commit } from './commit.js';
import { gc } from './gc.js';
import { kvWrite } from './kv-write.js';
import { prewrite } from './prewrite.js';
import { resolveLock } from './resolve.js';
import { rollback } from './rollback.js';
import type { TxnCommand, TxnResult } from './types.js';

/** Applies `cmd` to the range [start, end) through `txn`; `retry`: a client's resend, which may have applied before. */
export function applyTxnCommand(txn: MvccTxn, cmd: TxnCommand, range: { start: Uint8Array; end: Uint8Array }, retry = false): Promise<TxnResult> {
  switch (cmd.kind) {
    case 'kvWrite':
      return kvWrite(txn, cmd, retry);
    case 'prewrite':
      return prewrite(txn, cmd);
    case 'commit':
      return commit(txn, cmd);
    case 'rollback':
      return rollback(txn, cmd);
    case 'checkTxnStatus':
      return checkTxnStatus(txn, cmd);
    case 'heartbeat':
      return heartbeat(txn, cmd);
    case 'resolveLock':
      return resolveLock(txn, cmd, range);
    case 'gc':
      return gc(txn, cmd, range);
  }
}
