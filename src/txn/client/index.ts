export { TxnClient } from './txn-client.js';
export { DEFAULT_TXN_OPTIONS } from './env.js';
export type { TxnClientOptions } from './env.js';
export { ConflictError, Transaction } from './transaction.js';
export type { KvTxn } from './transaction.js';
export type { KvRequest, RangeSender } from './sender.js';
export { sendCommand, sendPerRange } from './sender.js';
