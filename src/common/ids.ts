/**
 * Raft vocabulary. Plain numbers (not branded) because the core does arithmetic
 * on them on every message; indices and terms stay far below 2^53.
 */
/** A Raft peer id, unique within one group; 0 means "none". */
export type NodeId = number;
export type Term = number;
export type LogIndex = number;
