/**
 * The dora client (SPEC §4): `Client`, its options and `createClient`.
 */
import { create, type DescMessage, type DescMethod, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { ClientConnection, type ConnectionSettings } from "./client-connection.js";
import { Code } from "./code.js";
import type { Codec } from "./codec.js";
import { createContextValues, type ContextValues } from "./context-values.js";
import { DeadlineWheel } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import { chain, type Interceptor, type UnaryFn, type UnaryRequest, type UnaryResponse } from "./interceptor.js";
import { silentLogger, type Logger } from "./logger.js";
import { clientConfig, type CallConfig } from "./options.js";
import { NEVER_ABORTED, PendingCall, type PendingCallOwner } from "./pending-call.js";
import { FRAME_HEADER_BYTES } from "./protocol/frame.js";
import { encodePkgFrame } from "./protocol/pkg.js";
import { EMPTY_META, TIMEOUT_KEY } from "./protocol/reserved-meta.js";
import { createSocketDialer } from "./socket-dialer.js";

/** TLS settings of a client. `cert` + `key` present a client certificate (mutual TLS). */
export interface ClientTlsOptions {
  /** PEM CA certificate(s) that sign the server certificate. Default: Node's trusted roots. */
  ca?: string | Buffer;
  /** PEM client certificate, for mutual TLS. */
  cert?: string | Buffer;
  /** PEM client private key, for mutual TLS. */
  key?: string | Buffer;
  /** Server name to verify and send as SNI. Default: the host when it is a name, not an IP. */
  servername?: string;
  /** Verify the server certificate. Default true. */
  rejectUnauthorized?: boolean;
}

/** Options of every client, over sockets or in process. */
export interface CommonClientOptions {
  /** Default time allowed for a call. Default 5000 ms. */
  timeoutMs?: number;
  /** Largest frame sent or accepted; a larger request fails with `OutOfRange`. Default 4 MiB (dora v2 Go peers: 64 KiB, see `doraV2CompatClientOptions`). */
  maxFrameBytes?: number;
  /** Interceptors, the first being the outermost. */
  interceptors?: Interceptor[];
  /** Metadata sent with every call (a call's own metadata wins). */
  meta?: Record<string, string>;
  /** Codec for requests: `"proto"` (default), `"json"` or a codec given in `codecs`. */
  serializeType?: string;
  /** Send bare method names (`Login`) instead of fully-qualified ones, for dora v2 Go servers. Default false. */
  bareMethodNames?: boolean;
  /** Codecs beyond the built-in `proto` and `json`. */
  codecs?: Codec[];
  /** Where connection events (a failed connect, a closed connection) are logged, at debug level. Default: silent. */
  logger?: Logger;
}

/** Options of {@link createClient}. */
export interface ClientOptions extends CommonClientOptions {
  /** Server address(es), `"host:port"`; connections of the pool are spread over them. */
  address: string | string[];
  /** Connections in the pool; calls are multiplexed over them. Default 10. */
  poolSize?: number;
  /** Time allowed to establish a connection (TCP + TLS). Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * Time allowed, once a connection is established, for the server's first
   * frame: the client sends a PING on connect, which every dora server
   * answers at once. A server that sends nothing is reported as not speaking
   * dora. Default 1000 ms.
   */
  probeTimeoutMs?: number;
  /** Send a PING after this long without reading anything. Default 5000 ms. */
  keepaliveTimeMs?: number;
  /** Close the connection when nothing was read this long after a PING. Default 20000 ms. */
  keepaliveTimeoutMs?: number;
  /** First reconnect delay after a failed connect; grows ×1.6 with ±20 % jitter. Default 1000 ms. */
  reconnectInitialMs?: number;
  /** Largest reconnect delay. Default 120000 ms. */
  reconnectMaxMs?: number;
  /** Connect with TLS. */
  tls?: ClientTlsOptions;
}

/** Options of one call. */
export interface CallOptions {
  /** Time allowed for this call, in milliseconds. Default: the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Aborting fails the call at once with `Canceled`. */
  signal?: AbortSignal;
  /** Metadata for this call. */
  meta?: Record<string, string>;
  /** Per-call values for the client's interceptors. Default: an empty collection. */
  values?: ContextValues;
  /** Receives the response metadata (framework keys removed) of a successful call, or of a call the server failed. */
  onResponseMeta?: (meta: Readonly<Record<string, string>>) => void;
}

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
  private readonly names = new Map<DescMethod, string>();
  private next = 0;
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
      values: options?.values ?? createContextValues(),
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

  /** The fully-qualified name of a method, `/<package>.<Service>/<Method>`. */
  private nameOf(desc: DescMethod): string {
    let name = this.names.get(desc);
    if (name === undefined) {
      name = `/${desc.parent.typeName}/${desc.name}`;
      this.names.set(desc, name);
    }
    return name;
  }

  /** Round-robin over connections that are not waiting out a reconnect delay. */
  private pick(): ClientConnection | DoraError {
    const pool = this.pool;
    const n = pool.length;
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const conn = pool[this.next]!;
      this.next = this.next + 1 === n ? 0 : this.next + 1;
      if (conn.usable(now)) return conn;
    }
    const reason = pool.find((c) => c.failure !== undefined)?.failure;
    return new DoraError(Code.Unavailable, `no connection available${reason === undefined ? "" : `: ${reason}`}`);
  }
}
