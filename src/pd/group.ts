/**
 * What the placement driver needs of its own Raft group: a small replicated,
 * linearizable key-value map, and this member's view of who leads. The cli
 * wires it to a range hosted by the same store code that hosts user ranges
 * (see meta-group.ts), so the PD runs on the same core and storage.
 */
export interface PdGroup {
  /** This member's id (1..n). */
  readonly memberId: number;
  isLeader(): boolean;
  /** The member this one believes leads (0 = unknown). */
  leaderId(): number;
  term(): number;
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
  /** Every pair whose key starts with `prefix`, in key order. */
  scan(prefix: string): Promise<[string, string][]>;
}
