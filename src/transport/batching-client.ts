/**
 * Client-side batching of KV requests: everything asked of one store during
 * an event-loop turn leaves as ONE Kv call, so per-call gRPC overhead is paid
 * once per batch, not once per request (the gateway's hot path).
 */
import type { Timers } from '../runtime/index.js';
import { systemTimers } from '../runtime/index.js';
import { StoreClient } from './grpc.js';
import type { WireKvRequest, WireKvResponse } from './wire-types.js';

const MAX_BATCH = 2048;

interface Queued {
  readonly req: Partial<WireKvRequest>;
  resolve(r: WireKvResponse): void;
  reject(e: Error): void;
}

export class BatchingKvClient {
  private readonly client: StoreClient;
  private queue: Queued[] = [];
  private scheduled = false;
  batches = 0;
  requests = 0;

  constructor(
    address: string,
    private readonly timers: Timers = systemTimers,
    private readonly deadlineMs = 5_000,
  ) {
    this.client = new StoreClient(address);
  }

  kv(req: Partial<WireKvRequest>): Promise<WireKvResponse> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        this.timers.setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.batches++;
    this.requests += batch.length;
    this.client.kv(batch.map((q) => q.req), this.deadlineMs).then(
      (responses) => batch.forEach((q, i) => q.resolve(responses[i])),
      (err: Error) => batch.forEach((q) => q.reject(err)),
    );
  }

  close(): void {
    this.client.close();
  }
}
