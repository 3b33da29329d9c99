/**
 * gRPC plumbing (the only module that imports @grpc/grpc-js): the store
 * server, the outgoing Raft streams to peer stores, and a client for the
 * store's unary calls.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../runtime/index.js';
import { systemClock, systemTimers } from '../runtime/index.js';
import { decodeRequests, encodeResponses } from './kv-codec.js';
import type { PdHandlers, StoreHandlers, WireChangeReplicasRequest, WireSplitRequest, WireKvRequest, WireKvResponse, WireRange, WireRangeStatus, WireSnapshotChunk } from './wire-types.js';

/** Finds proto/raftshard.proto from src/ (tests) or dist/src/ (built). */
function protoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'proto', 'raftshard.proto');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error('proto/raftshard.proto not found');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

let cached: Any;
function services(): Any {
  if (!cached) {
    const def = protoLoader.loadSync(protoPath(), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    cached = (grpc.loadPackageDefinition(def) as Any).raftshard;
  }
  return cached;
}
const storeService = (): Any => services().Store;

const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 64 << 20,
  'grpc.max_send_message_length': 64 << 20,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
};

export class StoreServer {
  private readonly server = new grpc.Server(CHANNEL_OPTIONS);
  /** Frames that failed to decode or reached an unknown store. */
  malformedFrames = 0;

  constructor(private readonly handlers: StoreHandlers) {
    this.server.addService(storeService().service, {
      Raft: (call: Any) => {
        call.on('data', (frame: { from_store: number; payload: Uint8Array }) => {
          try {
            this.handlers.onRaftFrame(frame.from_store, frame.payload);
          } catch {
            this.malformedFrames++;
          }
        });
        call.on('error', () => {});
        call.on('end', () => call.end());
      },
      KvStream: (call: Any) => this.serveKvStream(call),
      Kv: (call: Any, cb: Any) => {
        this.handlers.kv(call.request.requests as WireKvRequest[]).then(
          (responses) => cb(null, { responses }),
          (err: Error) => cb({ code: grpc.status.INTERNAL, details: err.message }),
        );
      },
      CreateReplica: (call: Any, cb: Any) => {
        this.handlers.createReplica(call.request.range as WireRange, call.request.bootstrap as boolean).then(
          () => cb(null, { ok: true, error: '' }),
          (err: Error) => cb(null, { ok: false, error: err.message }),
        );
      },
      Ranges: (_call: Any, cb: Any) => cb(null, { ranges: this.handlers.ranges() }),
      TransferLeader: (call: Any, cb: Any) => {
        try {
          this.handlers.transferLeader(call.request.range_id as number, call.request.to_store as number);
          cb(null, { ok: true, error: '' });
        } catch (err) {
          cb(null, { ok: false, error: (err as Error).message });
        }
      },
      Split: (call: Any, cb: Any) => {
        this.handlers.split(call.request as WireSplitRequest).then(
          (res) => cb(null, res),
          (err: Error) => cb(null, { error: err.message }),
        );
      },
      ChangeReplicas: (call: Any, cb: Any) => {
        this.handlers.changeReplicas(call.request as WireChangeReplicasRequest).then(
          (range) => cb(null, { error: '', range }),
          (err: Error) => cb(null, { error: err.message }),
        );
      },
      Snapshot: (call: Any, cb: Any) => {
        this.handlers.snapshot(call as AsyncIterable<WireSnapshotChunk>).then(
          () => cb(null, { ok: true, error: '' }),
          (err: Error) => cb(null, { ok: false, error: err.message }),
        );
      },
    });
  }

  /** Answers each request of each frame as it completes; answers of one turn leave in one frame. */
  private serveKvStream(call: Any): void {
    let out: { seq: number; res: WireKvResponse }[] = [];
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      const batch = out;
      out = [];
      if (!call.destroyed && !call.writableEnded) call.write({ payload: encodeResponses(batch) });
    };
    const answer = (seq: number, res: WireKvResponse) => {
      out.push({ seq, res });
      if (!scheduled) {
        scheduled = true;
        systemTimers.setImmediate(flush);
      }
    };
    call.on('data', (frame: { payload: Uint8Array }) => {
      let reqs: { seq: number; req: WireKvRequest }[];
      try {
        reqs = decodeRequests(frame.payload);
      } catch {
        this.malformedFrames++;
        return;
      }
      for (const { seq, req } of reqs) {
        this.handlers.kvOne(req).then(
          (res) => answer(seq, res),
          (err: Error) => answer(seq, { error: 'UNAVAILABLE', message: err.message, leader_store: 0, ranges: [], found: false, value: new Uint8Array(0), deleted: false, items: [], more: false }),
        );
      }
    });
    call.on('error', () => {});
    call.on('end', () => call.end());
  }

  /**
   * Serves the placement driver's service on the same port: each handler
   * takes the request message and resolves the response message.
   */
  addPdService(handlers: PdHandlers): void {
    const impl: Record<string, Any> = {};
    for (const [method, handler] of Object.entries(handlers)) {
      impl[method] = (call: Any, cb: Any) => {
        (handler as (req: unknown) => Promise<unknown>)(call.request).then(
          (res) => cb(null, res),
          (err: Error) => cb({ code: grpc.status.UNAVAILABLE, details: err.message }),
        );
      };
    }
    this.server.addService(services().Pd.service, impl);
  }

  /** Binds `host:port` (port 0 picks one); resolves the bound port. */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  forceClose(): void {
    this.server.forceShutdown();
  }
}

/** Unary calls to one store (gateway, admin CLI, tests). */
export class StoreClient {
  private readonly client: Any;

  constructor(
    readonly address: string,
    private readonly clock: Clock = systemClock,
  ) {
    const Service = storeService();
    this.client = new Service(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  private unary<T>(method: string, req: unknown, deadlineMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client[method](req, { deadline: this.clock.now() + deadlineMs }, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
    });
  }

  async kv(requests: Partial<WireKvRequest>[], deadlineMs = 10_000): Promise<WireKvResponse[]> {
    const res = await this.unary<{ responses: WireKvResponse[] }>('Kv', { requests }, deadlineMs);
    return res.responses;
  }

  async createReplica(range: WireRange, bootstrap: boolean, deadlineMs = 10_000): Promise<void> {
    const res = await this.unary<{ ok: boolean; error: string }>('CreateReplica', { range, bootstrap }, deadlineMs);
    if (!res.ok) throw new Error(res.error);
  }

  async transferLeader(rangeId: number, toStore: number, deadlineMs = 5_000): Promise<void> {
    const res = await this.unary<{ ok: boolean; error: string }>('TransferLeader', { range_id: rangeId, to_store: toStore }, deadlineMs);
    if (!res.ok) throw new Error(res.error);
  }

  async split(req: WireSplitRequest, deadlineMs = 15_000): Promise<{ left: WireRange; right: WireRange }> {
    const res = await this.unary<{ error: string; left: WireRange; right: WireRange }>('Split', req, deadlineMs);
    if (res.error) throw new Error(res.error);
    return res;
  }

  async changeReplicas(req: WireChangeReplicasRequest, deadlineMs = 60_000): Promise<WireRange> {
    const res = await this.unary<{ error: string; range: WireRange }>('ChangeReplicas', req, deadlineMs);
    if (res.error) throw new Error(res.error);
    return res.range;
  }

  async ranges(deadlineMs = 5_000): Promise<{ store: number; ranges: WireRangeStatus[] }> {
    return this.unary('Ranges', {}, deadlineMs);
  }

  /** Streams a snapshot in chunks; resolves when the receiver installed it. */
  sendSnapshot(chunks: AsyncIterable<WireSnapshotChunk>, deadlineMs = 300_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const call = this.client.Snapshot({ deadline: this.clock.now() + deadlineMs }, (err: Error | null, res: { ok: boolean; error: string }) => {
        if (err) reject(err);
        else if (!res.ok) reject(new Error(res.error));
        else resolve();
      });
      void (async () => {
        try {
          for await (const chunk of chunks) {
            if (!call.write(chunk)) await new Promise<void>((r) => call.once('drain', r));
          }
          call.end();
        } catch (err) {
          call.cancel();
          reject(err as Error);
        }
      })();
    });
  }

  /** Opens a KV stream to this store (see kv-codec.ts). */
  openKvStream(onFrame: (payload: Uint8Array) => void, onClose: (err: Error) => void): { write(payload: Uint8Array): void; close(): void } {
    const call = this.client.KvStream();
    let closed = false;
    const close = (err: Error) => {
      if (closed) return;
      closed = true;
      onClose(err);
    };
    call.on('data', (frame: { payload: Uint8Array }) => onFrame(frame.payload));
    call.on('error', (err: Error) => close(err));
    call.on('end', () => close(new Error('KV stream ended')));
    return { write: (payload) => call.write({ payload }), close: () => call.end() };
  }

  /** Opens the long-lived Raft stream to this store. */
  openRaftStream(): RaftStream {
    const call = this.client.Raft();
    return {
      write: (fromStore, payload) => call.write({ from_store: fromStore, payload }),
      onDrain: (fn) => call.once('drain', fn),
      onClose: (fn) => {
        call.on('error', () => fn());
        call.on('end', () => fn());
        call.on('data', () => {});
      },
      close: () => call.end(),
    };
  }

  close(): void {
    this.client.close();
  }
}

/** Unary calls to one placement driver member. */
export class PdMemberClient {
  private readonly client: Any;

  constructor(
    readonly address: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.client = new (services().Pd)(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  call<M extends keyof PdHandlers>(method: M, req: Parameters<PdHandlers[M]>[0], deadlineMs: number): ReturnType<PdHandlers[M]> {
    return new Promise((resolve, reject) => {
      this.client[method](req, { deadline: this.clock.now() + deadlineMs }, (err: Error | null, res: never) => (err ? reject(err) : resolve(res)));
    }) as ReturnType<PdHandlers[M]>;
  }

  close(): void {
    this.client.close();
  }
}

/** One direction of a store-to-store Raft stream. */
export interface RaftStream {
  /** False when the stream's buffer is full: wait for onDrain before writing more. */
  write(fromStore: number, payload: Uint8Array): boolean;
  onDrain(fn: () => void): void;
  onClose(fn: () => void): void;
  close(): void;
}
