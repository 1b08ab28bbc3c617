/**
 * The dora client (SPEC §4): `Client` and `createClient`.
 */
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescMethodBiDiStreaming,
  type DescMethodClientStreaming,
  type DescMethodServerStreaming,
  type DescMethodStreaming,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { ClientConnection, type ConnectionSettings } from "./client-connection.js";
import { ClientStream } from "./client-stream.js";
import { Code } from "./code.js";
import type { Codec } from "./codec.js";
import { createContextValues, type ContextValues } from "./context-values.js";
import { DeadlineWheel } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import { chain, type AnyFn, type AnyRequest, type AnyResponse, type StreamRequest, type StreamResponse, type UnaryRequest, type UnaryResponse } from "./interceptor.js";
import type { CallOptions, ClientOptions, CommonClientOptions } from "./client-options.js";
import { silentLogger } from "./logger.js";
import { clientConfig, MAX_TIMEOUT_MS, type CallConfig } from "./options.js";
import { NEVER_ABORTED, PendingCall, type PendingCallOwner } from "./pending-call.js";
import { FRAME_HEADER_BYTES } from "./protocol/frame.js";
import { encodePkgFrame, type HeadFields } from "./protocol/pkg.js";
import { EMPTY_META, formatTimeout, TIMEOUT_KEY } from "./protocol/reserved-meta.js";
import { encodeOpenFrame, FLAG_END, FLAG_MESSAGE, FLAG_OPEN } from "./protocol/stream-frame.js";
import { ResponseStream } from "./response-stream.js";
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
   * Calls a server-streaming method: one request, the responses as an
   * `AsyncIterable` read with `for await`. The call starts on the first read;
   * leaving the loop early (`break`, `return()`) cancels it. Reading rejects
   * with a `DoraError`, after the messages sent before the error. A stream has
   * no deadline unless `options.timeoutMs` gives one.
   */
  serverStream<I extends DescMessage, O extends DescMessage>(method: DescMethodServerStreaming<I, O>, request: MessageInitShape<I>, options?: CallOptions): AsyncIterable<MessageShape<O>>;
  /**
   * Calls a client-streaming method: the requests from an `AsyncIterable`
   * (sent as the server grants credit for them: a slow server pauses the
   * iterable), one response. An error thrown by the iterable cancels the call.
   */
  clientStream<I extends DescMessage, O extends DescMessage>(method: DescMethodClientStreaming<I, O>, requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions): Promise<MessageShape<O>>;
  /**
   * Calls a bidirectional-streaming method: requests from an `AsyncIterable`,
   * responses as an `AsyncIterable`, both flowing at once. The call starts on
   * the first read of the responses; leaving that loop early cancels it.
   */
  bidiStream<I extends DescMessage, O extends DescMessage>(method: DescMethodBiDiStreaming<I, O>, requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions): AsyncIterable<MessageShape<O>>;
  /**
   * Closes the client: new calls fail with `Unavailable`, unary calls in
   * flight run to their end (each has a deadline), open streams are canceled
   * (`Canceled`), then every connection closes.
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

const EMPTY_PAYLOAD = new Uint8Array(0);

/**
 * Most calls one connection takes in a turn (one tick) before the next
 * connection is used: enough to share a write, few enough that a burst of
 * calls still spreads over the pool.
 */
export const CALLS_PER_TURN = 8;

/**
 * A turn takes at most the calls in flight divided by this, so that the calls
 * of a steady load are spread over about this many connections: their writes,
 * the server's work and the answers then overlap instead of taking turns
 * (measured: 12 callers on one machine make about 1.7 × the calls per second
 * with turns of 3 as with turns of 8; 4 callers 2.3 × with turns of 1).
 */
export const TURN_SPREAD = 4;

/** The calls of a turn that starts while `inFlight` calls wait for answers: ⌈inFlight / TURN_SPREAD⌉, from 1 to {@link CALLS_PER_TURN}. */
export function turnSize(inFlight: number): number {
  return Math.min(CALLS_PER_TURN, Math.max(1, Math.ceil(inFlight / TURN_SPREAD)));
}

/** The values of calls no interceptor sees: nothing reads or writes them. */
const UNREAD_VALUES: ContextValues = createContextValues();

/** The answer's message. */
function messageOf<O extends DescMessage>(response: AnyResponse): MessageShape<O> {
  return (response as UnaryResponse<O>).message;
}

/**
 * The one request of a server-streaming call. The client recognises it and
 * sends the request inside the OPEN frame (OPEN|MESSAGE|END: one frame for
 * the whole request side); an interceptor that wraps it gets the general path.
 */
class SingleRequest<I extends DescMessage> implements AsyncIterable<MessageShape<I>> {
  constructor(readonly message: MessageShape<I>) {}

  async *[Symbol.asyncIterator](): AsyncIterator<MessageShape<I>> {
    yield this.message;
  }
}

/** The requests of a stream as messages: init shapes become messages as they are read. */
async function* messagesOf<I extends DescMessage>(schema: I, requests: AsyncIterable<MessageInitShape<I>>): AsyncIterable<MessageShape<I>> {
  for await (const request of requests) yield create(schema, request);
}

/**
 * The implementation behind {@link Client}, over any pool of connections
 * (sockets, or the in-process channel). Not exported from the package.
 */
export class DoraClient implements Client, PendingCallOwner {
  readonly wheel = new DeadlineWheel();
  private readonly meta: Readonly<Record<string, string>>;
  private readonly bare: boolean;
  private readonly invoke: AnyFn;
  /** Interceptors are installed: only they read a call's values. */
  private readonly intercepted: boolean;
  private readonly names = new Map<DescMethod, string>();
  private next = 0;
  /** The connection of the current turn, and how many calls it has taken in it (0: no turn). */
  private turn = 0;
  private turnCalls = 0;
  /** How many calls the current turn may take ({@link turnSize}). */
  private turnLimit = 1;
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
      return Promise.reject(encodeError(desc.input, err));
    }
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined && !isTimeout(timeoutMs)) return Promise.reject(badTimeout(timeoutMs));
    const callMeta = options?.meta;
    const req: UnaryRequest<I, O> = {
      stream: false,
      method: this.nameOf(desc),
      desc,
      meta: callMeta === undefined ? this.meta : this.meta === EMPTY_META ? callMeta : { ...this.meta, ...callMeta },
      deadline: Date.now() + (timeoutMs ?? this.config.timeoutMs),
      signal: options?.signal ?? NEVER_ABORTED,
      message,
      values: options?.values ?? (this.intercepted ? createContextValues() : UNREAD_VALUES),
      peer: undefined,
    };
    const response = this.invoke(req as UnaryRequest);
    const onMeta = options?.onResponseMeta;
    if (onMeta === undefined) return response.then(messageOf<O>);
    return response.then(
      (res) => {
        onMeta(res.meta);
        return messageOf<O>(res);
      },
      (err: unknown) => {
        if (err instanceof DoraError) onMeta(err.metadata);
        throw err;
      },
    );
  }

  serverStream<I extends DescMessage, O extends DescMessage>(desc: DescMethodServerStreaming<I, O>, request: MessageInitShape<I>, options?: CallOptions): AsyncIterable<MessageShape<O>> {
    return new ResponseStream<O>((signal) => {
      let message: MessageShape<I>;
      try {
        message = create(desc.input, request);
      } catch (err) {
        return Promise.reject(encodeError(desc.input, err));
      }
      return this.openStream(desc, new SingleRequest(message), options, signal);
    }, options);
  }

  async clientStream<I extends DescMessage, O extends DescMessage>(desc: DescMethodClientStreaming<I, O>, requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions): Promise<MessageShape<O>> {
    const responses = new ResponseStream<O>((signal) => this.openStream(desc, messagesOf(desc.input, requests), options, signal), options);
    const first = await responses.next();
    if (first.done === true) throw new DoraError(Code.Internal, "the server ended a client-streaming call without a response");
    const second = await responses.next();
    if (second.done !== true) {
      void responses.return();
      throw new DoraError(Code.Internal, "the server sent more than one response to a client-streaming call");
    }
    return first.value;
  }

  bidiStream<I extends DescMessage, O extends DescMessage>(desc: DescMethodBiDiStreaming<I, O>, requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions): AsyncIterable<MessageShape<O>> {
    return new ResponseStream<O>((signal) => this.openStream(desc, messagesOf(desc.input, requests), options, signal), options);
  }

  /** Starts a streaming call through the interceptors; resolves once the server's headers arrived. */
  private openStream<I extends DescMessage, O extends DescMessage>(
    desc: DescMethodStreaming<I, O>,
    message: AsyncIterable<MessageShape<I>>,
    options: CallOptions | undefined,
    closed: AbortSignal,
  ): Promise<AnyResponse> {
    const callMeta = options?.meta;
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined && !isTimeout(timeoutMs)) return Promise.reject(badTimeout(timeoutMs));
    const req: StreamRequest<I, O> = {
      stream: true,
      method: this.nameOf(desc),
      desc,
      meta: callMeta === undefined ? this.meta : this.meta === EMPTY_META ? callMeta : { ...this.meta, ...callMeta },
      deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
      signal: options?.signal === undefined ? closed : AbortSignal.any([options.signal, closed]),
      message,
      values: options?.values ?? (this.intercepted ? createContextValues() : UNREAD_VALUES),
      peer: undefined,
    };
    return this.invoke(req as StreamRequest);
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
  private readonly send: AnyFn = (req: AnyRequest): Promise<AnyResponse> => {
    if (req.stream) return this.sendStream(req);
    if (this.closed) return Promise.reject(new DoraError(Code.Unavailable, "the client is closed"));
    if (req.signal.aborted) return Promise.reject(new DoraError(Code.Canceled, "the call was aborted"));
    const deadline = req.deadline ?? Date.now() + this.config.timeoutMs;
    const timeoutMs = deadline - Date.now();
    if (!(timeoutMs > 0)) return Promise.reject(new DoraError(Code.DeadlineExceeded, "the deadline has already passed"));
    const payload = encodeRequest(this.config.codec, req.desc.input, req.message);
    if (payload instanceof DoraError) return Promise.reject(payload);
    const conn = this.pick();
    if (conn instanceof DoraError) return Promise.reject(conn);
    const streamId = conn.nextStreamId();
    const frame = encodePkgFrame(streamId, this.nextHead(req), req.meta, { [TIMEOUT_KEY]: formatTimeout(timeoutMs, MAX_TIMEOUT_MS) }, payload);
    const oversize = oversizeError(frame, this.config.maxFrameBytes);
    if (oversize !== undefined) return Promise.reject(oversize);
    const call = new PendingCall(this, conn, streamId, req);
    this.wheel.add(call, deadline);
    conn.start(call, frame);
    return call.promise;
  };

  /**
   * The wire end of a streaming call: the OPEN frame (carrying a
   * server-streaming call's one request and its half-close as well), then the
   * requests as the server grants credit, then END.
   */
  private sendStream(req: StreamRequest): Promise<StreamResponse> {
    if (this.closed) return Promise.reject(new DoraError(Code.Unavailable, "the client is closed"));
    if (req.signal.aborted) return Promise.reject(new DoraError(Code.Canceled, "the call was aborted"));
    const deadline = req.deadline;
    const timeoutMs = deadline === undefined ? undefined : deadline - Date.now();
    if (timeoutMs !== undefined && !(timeoutMs > 0)) return Promise.reject(new DoraError(Code.DeadlineExceeded, "the deadline has already passed"));
    const single = req.message instanceof SingleRequest ? (req.message as SingleRequest<DescMessage>) : undefined;
    const payload = single === undefined ? EMPTY_PAYLOAD : encodeRequest(this.config.codec, req.desc.input, single.message);
    if (payload instanceof DoraError) return Promise.reject(payload);
    const conn = this.pick();
    if (conn instanceof DoraError) return Promise.reject(conn);
    const streamId = conn.nextStreamId();
    const flags = single === undefined ? FLAG_OPEN : FLAG_OPEN | FLAG_MESSAGE | FLAG_END;
    const frame = encodeOpenFrame(streamId, flags, this.nextHead(req), req.meta, timeoutMs === undefined ? undefined : { [TIMEOUT_KEY]: formatTimeout(timeoutMs, MAX_TIMEOUT_MS) }, payload);
    const oversize = oversizeError(frame, this.config.maxFrameBytes);
    if (oversize !== undefined) return Promise.reject(oversize);
    const stream = new ClientStream(this, conn, streamId, req, this.config.streamWindowBytes);
    if (deadline !== undefined) this.wheel.add(stream, deadline);
    conn.start(stream, frame);
    if (single === undefined) void stream.sendRequests(req.message, req.desc.input);
    return stream.response;
  }

  /** The head of the next request frame: the codec, the next seq (wrapping before it leaves the safe integers) and the method. */
  private nextHead(req: AnyRequest): HeadFields {
    this.seq = this.seq >= Number.MAX_SAFE_INTEGER ? 1 : this.seq + 1;
    return { version: 0, serializeType: this.config.codec.name, seq: this.seq, method: this.bare ? req.desc.name : req.method };
  }

  /** The tick is over: its calls have been written; the next call starts a turn on the next connection. */
  private readonly endTurn = (): void => {
    this.turnCalls = 0;
  };

  /** Calls and streams waiting for answers on all connections. */
  private inFlight(): number {
    let n = 0;
    for (const conn of this.pool) n += conn.inFlight;
    return n;
  }

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
   * {@link turnSize} of them (a share of the calls in flight, at most
   * {@link CALLS_PER_TURN}), so they leave in one write (the connection
   * batches the frames of a tick) and their answers come back together; the
   * next turn starts on the next connection.
   */
  private pick(): ClientConnection | DoraError {
    const pool = this.pool;
    const n = pool.length;
    const now = Date.now();
    if (this.turnCalls > 0 && this.turnCalls < this.turnLimit) {
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
        this.turnLimit = turnSize(this.inFlight());
        this.turn = index;
        this.turnCalls = 1;
        return conn;
      }
    }
    const reason = pool.find((c) => c.failure !== undefined)?.failure;
    return new DoraError(Code.Unavailable, `no connection available${reason === undefined ? "" : `: ${reason}`}`);
  }
}

/** Whether a call's `timeoutMs` is a number of milliseconds (zero or less: the deadline has passed; Infinity: the longest, MAX_TIMEOUT_MS). */
function isTimeout(value: unknown): value is number {
  return typeof value === "number" && !Number.isNaN(value);
}

/** The error of a call whose `timeoutMs` is not a number: BadRequest, naming the option and the value; nothing is sent. */
function badTimeout(value: unknown): DoraError {
  return new DoraError(Code.BadRequest, `call option timeoutMs must be a number of milliseconds, got ${typeof value === "number" ? String(value) : JSON.stringify(value) ?? typeof value}`);
}

/** The error of a request that cannot be encoded: Internal, naming its type; nothing is sent. */
function encodeError(input: DescMessage, err: unknown): DoraError {
  return new DoraError(Code.Internal, `cannot encode ${input.typeName}: ${(err as Error).message}`, { cause: err });
}

/** A request message's payload, or the error of a message the codec cannot encode. */
function encodeRequest(codec: Codec, input: DescMessage, message: MessageShape<DescMessage>): Uint8Array | DoraError {
  try {
    return codec.encode(input, message);
  } catch (err) {
    return encodeError(input, err);
  }
}

/** The error of a request frame over the maximum frame size (SPEC §3.1: a sender never sends one), or undefined. */
function oversizeError(frame: Uint8Array, maxFrameBytes: number): DoraError | undefined {
  const bytes = frame.length - FRAME_HEADER_BYTES;
  return bytes > maxFrameBytes ? new DoraError(Code.OutOfRange, `request of ${bytes} bytes exceeds the maximum frame size of ${maxFrameBytes} bytes`) : undefined;
}
