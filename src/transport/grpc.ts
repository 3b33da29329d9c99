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
import { DbError, OutcomeUnknownError, UnavailableError } from '../common/index.js';
import { failOrCrash, fromWireError } from './errors.js';
import type { WireErrorStatus } from './errors.js';
import type { PdHandlers, PdRedirect, StoreHandlers, WireChangeReplicasRequest, WireSplitRequest, WireKvRequest, WireKvResponse, WireRangeStatus, WireSnapshotChunk } from './wire-types.js';
import type { RangeDescriptor } from '../common/index.js';

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
    const def = protoLoader.loadSync(protoPath(), { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
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

/**
 * A unary handler whose failure travels as data, in the response's `error`
 * field (proto ErrorStatus); a broken invariant stops the process instead.
 */
function unary(handle: (call: Any) => Promise<object>): (call: Any, cb: Any) => void {
  return (call, cb) => {
    let answer: Promise<object>;
    try {
      answer = handle(call);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (res) => cb(null, res),
      (err: unknown) => cb(null, { error: failOrCrash(err) }),
    );
  };
}

/** A failed call: the callee's typed error, or the transport's failure as UNAVAILABLE / OUTCOME_UNKNOWN. */
function callError(address: string, err: Error & { code?: number }): DbError {
  // After a deadline or a cancel the request may have been acted on; a refused connection was not.
  if (err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.CANCELLED) return new OutcomeUnknownError(`${address}: ${err.message}`);
  return new UnavailableError(`${address}: ${err.message}`);
}

/** The response, or the typed error its `error` field carries. */
function checked<T extends { error?: WireErrorStatus | null }>(res: T): T {
  const err = fromWireError(res.error);
  if (err) throw err;
  return res;
}

export class StoreServer {
  private readonly server = new grpc.Server(CHANNEL_OPTIONS);
  /** Frames that failed to decode or reached an unknown store. */
  malformedFrames = 0;

  constructor(private readonly handlers: StoreHandlers) {
    this.server.addService(storeService().service, {
      Raft: (call: Any) => {
        // The handler drops (and counts) frames that fail to decode; anything it throws
        // beyond that is a broken invariant and must stop the process, so it is not caught.
        call.on('data', (frame: { fromStore: number; payload: Uint8Array }) => this.handlers.onRaftFrame(frame.fromStore, frame.payload));
        call.on('error', () => {});
        call.on('end', () => call.end());
      },
      KvStream: (call: Any) => this.serveKvStream(call),
      Kv: unary((call) => this.handlers.kv((call.request.requests as WireKvRequestOnProto[]).map(fromProtoKvRequest)).then((responses) => ({ responses }))),
      CreateReplica: unary((call) => this.handlers.createReplica(call.request.range as RangeDescriptor, call.request.bootstrap as boolean).then(() => ({}))),
      Ranges: unary(async () => ({ ranges: this.handlers.ranges() })),
      TransferLeader: unary(async (call) => {
        this.handlers.transferLeader(call.request.rangeId as number, call.request.toStore as number);
        return {};
      }),
      Split: unary((call) => this.handlers.split(call.request as WireSplitRequest)),
      ChangeReplicas: unary((call) => this.handlers.changeReplicas(call.request as WireChangeReplicasRequest).then((range) => ({ range }))),
      Snapshot: unary((call) => this.handlers.snapshot(call as AsyncIterable<WireSnapshotChunk>).then(() => ({}))),
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
          (err: Error) => answer(seq, { error: 'UNAVAILABLE', message: err.message, leaderStore: 0, ranges: [], found: false, value: new Uint8Array(0), deleted: false, items: [], more: false, payload: new Uint8Array(0) }),
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
      impl[method] = unary((call) => (handler as (req: unknown) => Promise<object>)(call.request));
    }
    // Each request on the stream is served by the Tso handler, one after another, answered in order.
    impl.TsoStream = (call: Any) => {
      let chain: Promise<unknown> = Promise.resolve();
      call.on('data', (req: { count: number }) => {
        chain = chain.then(() =>
          handlers.Tso(req).then(
            (res) => call.write(res),
            (err: unknown) => call.write({ error: failOrCrash(err) }),
          ),
        );
      });
      call.on('end', () => void chain.then(() => call.end()));
      call.on('error', () => {});
    };
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

  /** Resolves the response, or rejects with a DbError: the store's own, or the call's failure. */
  private unary<T extends object>(method: string, req: unknown, deadlineMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client[method](req, { deadline: this.clock.now() + deadlineMs }, (err: (Error & { code?: number }) | null, res: T & { error?: WireErrorStatus | null }) => {
        if (err) reject(callError(this.address, err));
        else {
          try {
            resolve(checked(res));
          } catch (e) {
            reject(e as DbError);
          }
        }
      });
    });
  }

  async kv(requests: Partial<WireKvRequest>[], deadlineMs = 10_000): Promise<WireKvResponse[]> {
    const res = await this.unary<{ responses: WireKvResponse[] }>('Kv', { requests: requests.map((r) => ({ ...r, ts: String(r.ts ?? 0n) })) }, deadlineMs);
    return res.responses;
  }

  async createReplica(range: RangeDescriptor, bootstrap: boolean, deadlineMs = 10_000): Promise<void> {
    await this.unary('CreateReplica', { range, bootstrap }, deadlineMs);
  }

  async transferLeader(rangeId: number, toStore: number, deadlineMs = 5_000): Promise<void> {
    await this.unary('TransferLeader', { rangeId: rangeId, toStore: toStore }, deadlineMs);
  }

  split(req: WireSplitRequest, deadlineMs = 15_000): Promise<{ left: RangeDescriptor; right: RangeDescriptor }> {
    return this.unary('Split', req, deadlineMs);
  }

  /** A store applies a change within 10 s or fails it; a promotion waits for the learner, so its caller gives a longer deadline. */
  async changeReplicas(req: WireChangeReplicasRequest, deadlineMs = 15_000): Promise<RangeDescriptor> {
    const res = await this.unary<{ range: RangeDescriptor }>('ChangeReplicas', req, deadlineMs);
    return res.range;
  }

  ranges(deadlineMs = 5_000): Promise<{ store: number; ranges: WireRangeStatus[] }> {
    return this.unary('Ranges', {}, deadlineMs);
  }

  /** Streams a snapshot in chunks; resolves when the receiver installed it. */
  sendSnapshot(chunks: AsyncIterable<WireSnapshotChunk>, deadlineMs = 300_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const call = this.client.Snapshot({ deadline: this.clock.now() + deadlineMs }, (err: (Error & { code?: number }) | null, res: { error?: WireErrorStatus | null }) => {
        if (err) reject(callError(this.address, err));
        else {
          const failed = fromWireError(res.error);
          if (failed) reject(failed);
          else resolve();
        }
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
      write: (fromStore, payload) => call.write({ fromStore: fromStore, payload }),
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

  /** The member's response, or a DbError: the member's own (in the response) or the call's failure. */
  call<M extends keyof PdHandlers>(method: M, req: Parameters<PdHandlers[M]>[0], deadlineMs: number): ReturnType<PdHandlers[M]> {
    return new Promise((resolve, reject) => {
      this.client[method](req, { deadline: this.clock.now() + deadlineMs }, (err: (Error & { code?: number }) | null, res: { error?: WireErrorStatus | null }) => {
        if (err) reject(callError(this.address, err));
        else {
          const failed = fromWireError(res.error);
          if (failed) reject(failed);
          else resolve(res as never);
        }
      });
    }) as ReturnType<PdHandlers[M]>;
  }

  /** A long-lived stream of TSO requests; answers arrive in request order. */
  openTsoStream(): TsoStream {
    const call = this.client.TsoStream();
    let onAnswer: (res: { redirect?: PdRedirect | null; physical: number; logical: number; error?: WireErrorStatus | null }) => void = () => {};
    let onClose: (why: string) => void = () => {};
    call.on('data', (res: Parameters<typeof onAnswer>[0]) => onAnswer(res));
    call.on('error', (err: Error) => onClose(err.message));
    call.on('end', () => onClose('stream ended'));
    return {
      write: (count) => call.write({ count }),
      onAnswer: (fn) => (onAnswer = fn),
      onClose: (fn) => (onClose = fn),
      close: () => call.cancel(),
    };
  }

  close(): void {
    this.client.close();
  }
}

export interface TsoStream {
  write(count: number): void;
  onAnswer(fn: (res: { redirect?: PdRedirect | null; physical: number; logical: number; error?: WireErrorStatus | null }) => void): void;
  onClose(fn: (why: string) => void): void;
  close(): void;
}

/** One direction of a store-to-store Raft stream. */
export interface RaftStream {
  /** False when the stream's buffer is full: wait for onDrain before writing more. */
  write(fromStore: number, payload: Uint8Array): boolean;
  onDrain(fn: () => void): void;
  onClose(fn: () => void): void;
  close(): void;
}

/** A KvRequest as proto-loader hands it over: the timestamp as a decimal string (it exceeds 2^53). */
type WireKvRequestOnProto = Omit<WireKvRequest, 'ts'> & { ts: string };

function fromProtoKvRequest(r: WireKvRequestOnProto): WireKvRequest {
  let ts = 0n;
  try {
    ts = BigInt(r.ts || '0');
  } catch {
    ts = -1n; // not a number: the store refuses it as a bad request
  }
  return { ...r, ts };
}
