/**
 * The dora client (SPEC §4): `Client` and `createClient`.
 */
import { create, type DescMessage, type DescMethod, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { ClientConnection, type ConnectionSettings } from "./client-connection.js";
import { Code } from "./code.js";
import { createContextValues, type ContextValues } from "./context-values.js";
import { DeadlineWheel } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import { chain, type UnaryFn, type UnaryRequest, type UnaryResponse } from "./interceptor.js";
import type { CallOptions, ClientOptions, CommonClientOptions } from "./client-options.js";
import { silentLogger } from "./logger.js";
import { clientConfig, type CallConfig } from "./options.js";
import { NEVER_ABORTED, PendingCall, type PendingCallOwner } from "./pending-call.js";
import { FRAME_HEADER_BYTES } from "./protocol/frame.js";
import { encodePkgFrame } from "./protocol/pkg.js";
import { EMPTY_META, TIMEOUT_KEY } from "./protocol/reserved-meta.js";
import { createSocketDialer } from "./socket-dialer.js";

/**
 * A dora client: a pool of multiplexed connections to one or more servers.
 * Generated `createXxxClient(client)` functions wrap it in typed methods.
 *
 * ```ts
 * const client = createClient({ address: "127.0.0.1:8443" });
 * const kv = createKvServiceClient(client);
 * const res = await kv.login({ username: "1", password: "1" });
 * await client.close();
 * ```
 */
export interface Client {
  /**
   * Calls a unary method. Rejects with a `DoraError`: the server's code, or
   * `Unavailable` (no connection), `DeadlineExceeded`, `Canceled`,
   * `OutOfRange` (request larger than the maximum frame).
   */
  unary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, request: MessageInitShape<I>, options?: CallOptions): Promise<MessageShape<O>>;
  /**
   * Closes the client: new calls fail with `Unavailable`, calls in flight run
   * to their end (each has a deadline), then every connection closes.
   */
  close(): Promise<void>;
}

/** Creates a {@link Client}; options are validated here and errors name the option. No connection is made before the first call. */
export function createClient(options: ClientOptions): Client {
  const config = clientConfig(options);
  const settings: ConnectionSettings = { ...config, logger: options.logger ?? silentLogger };
  const dialers = config.addresses.map((address) => createSocketDialer(address, config.transport, options.tls));
  const pool = Array.from({ length: config.poolSize }, (_, i) => new ClientConnection(dialers[i % dialers.length]!, settings));
  return new DoraClient(config, options, pool);
}

/**
 * Most calls one connection takes in a turn (one tick) before the next
 * connection is used: enough to share a write, few enough that a burst of
 * calls still spreads over the pool.
 */
export const CALLS_PER_TURN = 8;

/** The values of calls no interceptor sees: nothing reads or writes them. */
const UNREAD_VALUES: ContextValues = createContextValues();

/** The answer's message. */
function messageOf<O extends DescMessage>(response: UnaryResponse<O>): MessageShape<O> {
  return response.message;
}

/**
 * The implementation behind {@link Client}, over any pool of connections
 * (sockets, or the in-process channel). Not exported from the package.
 */
export class DoraClient implements Client, PendingCallOwner {
  readonly wheel = new DeadlineWheel();
  private readonly meta: Readonly<Record<string, string>>;
  private readonly bare: boolean;
  private readonly invoke: UnaryFn;
  /** Interceptors are installed: only they read a call's values. */
  private readonly intercepted: boolean;
  private readonly names = new Map<DescMethod, string>();
  private next = 0;
  /** The connection of the current turn, and how many calls it has taken in it (0: no turn). */
  private turn = 0;
  private turnCalls = 0;
  private seq = 0;
  private closed = false;
  private closePromise: Promise<void> | undefined;

  constructor(
    readonly config: CallConfig,
    options: CommonClientOptions,
    private readonly pool: readonly ClientConnection[],
  ) {
    this.meta = options.meta !== undefined ? Object.freeze({ ...options.meta }) : EMPTY_META;
    this.bare = options.bareMethodNames ?? false;
    // With no interceptors, the chain is `send` itself: nothing is added to a call.
    this.invoke = chain(options.interceptors ?? [], this.send);
    this.intercepted = (options.interceptors ?? []).length > 0;
  }

  unary<I extends DescMessage, O extends DescMessage>(desc: DescMethodUnary<I, O>, request: MessageInitShape<I>, options?: CallOptions): Promise<MessageShape<O>> {
    let message: MessageShape<I>;
    try {
      message = create(desc.input, request);
    } catch (err) {
      return Promise.reject(new DoraError(Code.Internal, `cannot encode ${desc.input.typeName}: ${(err as Error).message}`, { cause: err }));
    }
    const callMeta = options?.meta;
    const req: UnaryRequest<I, O> = {
      method: this.nameOf(desc),
      desc,
      meta: callMeta === undefined ? this.meta : this.meta === EMPTY_META ? callMeta : { ...this.meta, ...callMeta },
      deadline: Date.now() + (options?.timeoutMs ?? this.config.timeoutMs),
      signal: options?.signal ?? NEVER_ABORTED,
      message,
      values: options?.values ?? (this.intercepted ? createContextValues() : UNREAD_VALUES),
      peer: undefined,
    };
    const response = this.invoke(req);
    const onMeta = options?.onResponseMeta;
    if (onMeta === undefined) return response.then(messageOf);
    return response.then(
      (res) => {
        onMeta(res.meta);
        return res.message;
      },
      (err: unknown) => {
        if (err instanceof DoraError) onMeta(err.metadata);
        throw err;
      },
    );
  }

  close(): Promise<void> {
    this.closed = true;
    this.closePromise ??= Promise.all(this.pool.map((c) => c.close())).then(() => this.wheel.stop());
    return this.closePromise;
  }

  /**
   * The one way to the wire, and the last step of the interceptor chain:
   * encodes the request, picks a connection, writes one frame and waits for
   * its answer or its deadline.
   */
  private readonly send: UnaryFn = <I extends DescMessage, O extends DescMessage>(req: UnaryRequest<I, O>): Promise<UnaryResponse<O>> => {
    if (this.closed) return Promise.reject(new DoraError(Code.Unavailable, "the client is closed"));
    if (req.signal.aborted) return Promise.reject(new DoraError(Code.Canceled, "the call was aborted"));
    const deadline = req.deadline ?? Date.now() + this.config.timeoutMs;
    const timeoutMs = deadline - Date.now();
    if (!(timeoutMs > 0)) return Promise.reject(new DoraError(Code.DeadlineExceeded, "the deadline has already passed"));
    const codec = this.config.codec;
    let payload: Uint8Array;
    try {
      payload = codec.encode(req.desc.input, req.message);
    } catch (err) {
      return Promise.reject(new DoraError(Code.Internal, `cannot encode ${req.desc.input.typeName}: ${(err as Error).message}`, { cause: err }));
    }
    const conn = this.pick();
    if (conn instanceof DoraError) return Promise.reject(conn);
    const streamId = conn.nextStreamId();
    this.seq = this.seq >= Number.MAX_SAFE_INTEGER ? 1 : this.seq + 1;
    const head = { version: 0, serializeType: codec.name, seq: this.seq, method: this.bare ? req.desc.name : req.method };
    const frame = encodePkgFrame(streamId, head, req.meta, { [TIMEOUT_KEY]: String(Math.ceil(timeoutMs)) }, payload);
    if (frame.length - FRAME_HEADER_BYTES > this.config.maxFrameBytes) {
      return Promise.reject(new DoraError(Code.OutOfRange, `request of ${frame.length - FRAME_HEADER_BYTES} bytes exceeds the maximum frame size of ${this.config.maxFrameBytes} bytes`));
    }
    const call = new PendingCall(this, conn, streamId, req);
    this.wheel.add(call, deadline);
    conn.start(call, frame);
    return call.promise;
  };

  /** The tick is over: its calls have been written; the next call starts a turn on the next connection. */
  private readonly endTurn = (): void => {
    this.turnCalls = 0;
  };

  /** The fully-qualified name of a method, `/<package>.<Service>/<Method>`. */
  private nameOf(desc: DescMethod): string {
    let name = this.names.get(desc);
    if (name === undefined) {
      name = `/${desc.parent.typeName}/${desc.name}`;
      this.names.set(desc, name);
    }
    return name;
  }

  /**
   * Round-robin over connections that are not waiting out a reconnect delay,
   * in turns: the calls of one tick go to one connection, up to
   * {@link CALLS_PER_TURN} of them, so they leave in one write (the connection
   * batches the frames of a tick) and their answers come back together; the
   * next tick starts on the next connection.
   */
  private pick(): ClientConnection | DoraError {
    const pool = this.pool;
    const n = pool.length;
    const now = Date.now();
    if (this.turnCalls > 0 && this.turnCalls < CALLS_PER_TURN) {
      const conn = pool[this.turn]!;
      if (conn.usable(now)) {
        this.turnCalls++;
        return conn;
      }
    }
    for (let i = 0; i < n; i++) {
      const index = this.next;
      const conn = pool[index]!;
      this.next = index + 1 === n ? 0 : index + 1;
      if (conn.usable(now)) {
        if (this.turnCalls === 0) process.nextTick(this.endTurn);
        this.turn = index;
        this.turnCalls = 1;
        return conn;
      }
    }
    const reason = pool.find((c) => c.failure !== undefined)?.failure;
    return new DoraError(Code.Unavailable, `no connection available${reason === undefined ? "" : `: ${reason}`}`);
  }
}
