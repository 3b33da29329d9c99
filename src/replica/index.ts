/**
 * replica — what drives one Raft group on a host. So far: the exactly-once
 * session table every replicated state machine uses. The Ready loop over real
 * storage and transport arrives with the store.
 */
export { SessionTable } from './sessions.js';
export type { Session, SessionCheck } from './sessions.js';
