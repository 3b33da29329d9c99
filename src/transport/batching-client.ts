/**
 * The gateway's client of one store: KV requests travel over one long-lived
 * stream, in binary (kv-codec.ts), and everything asked during an event-loop
 * turn leaves in ONE frame; answers come back batched the same way, matched
 * by sequence number. A broken stream fails what is in flight (the router
 * retries) and is reopened on the next request.
 */
import { WireError } from './raft-codec.js';
import type { Clock, Timers } from '../runtime/index.js';
import { DeadlineSweeper, systemClock, systemTimers } from '../runtime/index.js';
import { StoreClient } from './grpc.js';
import { decodeResponses, encodeRequests } from './kv-codec.js';
import type { WireKvRequest, WireKvResponse } from './wire-types.js';

const MAX_BATCH = 2048;

interface Pending {
  resolve(r: WireKvResponse): void;
  reject(e: Error): void;
  deadline: number;
}

export class BatchingKvClient {
  private readonly client: StoreClient;
  private stream: { write(payload: Uint8Array): void; close(): void } | undefined;
  private queue: { seq: number; req: Partial<WireKvRequest> }[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private scheduled = false;
  private readonly deadlines: DeadlineSweeper;
  batches = 0;
  requests = 0;

  constructor(
    address: string,
    private readonly timers: Timers = systemTimers,
    deadlineMs = 5_000,
    clock: Clock = systemClock,
  ) {
    this.client = new StoreClient(address);
    this.deadlines = new DeadlineSweeper(clock, timers, deadlineMs);
  }

  kv(req: Partial<WireKvRequest>): Promise<WireKvResponse> {
    return new Promise((resolve, reject) => {
      const seq = (this.seq = (this.seq + 1) >>> 0);
      const deadline = this.deadlines.add(() => this.settle(seq, undefined, new Error(`no answer within ${this.deadlines.ms} ms`)));
      this.pending.set(seq, { resolve, reject, deadline });
      this.queue.push({ seq, req });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        this.timers.setImmediate(() => this.flush());
      }
    });
  }

  private settle(seq: number, res: WireKvResponse | undefined, err?: Error): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    this.deadlines.remove(p.deadline);
    if (res) p.resolve(res);
    else p.reject(err!);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.batches++;
    this.requests += batch.length;
    let payload: Uint8Array;
    try {
      payload = encodeRequests(batch);
    } catch (err) {
      for (const { seq } of batch) this.settle(seq, undefined, err as Error);
      return;
    }
    this.open().write(payload);
  }

  private open(): { write(payload: Uint8Array): void; close(): void } {
    if (this.stream) return this.stream;
    const stream = this.client.openKvStream(
      (payload) => {
        let answers: { seq: number; res: WireKvResponse }[];
        try {
          answers = decodeResponses(payload);
        } catch (err) {
          // A store we cannot understand: fail everything on this stream rather than guess.
          this.broken(stream, err instanceof WireError ? err : new Error(String(err)));
          return;
        }
        for (const a of answers) this.settle(a.seq, a.res);
      },
      (err) => this.broken(stream, err),
    );
    this.stream = stream;
    return stream;
  }

  private broken(stream: { close(): void }, err: Error): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    stream.close();
    for (const seq of [...this.pending.keys()]) this.settle(seq, undefined, err);
  }

  close(): void {
    this.stream?.close();
    this.stream = undefined;
    for (const seq of [...this.pending.keys()]) this.settle(seq, undefined, new Error('client closed'));
    this.deadlines.close();
    this.client.close();
  }
}
