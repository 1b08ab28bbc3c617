import type { DescMessage, DescMethod, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import net from "node:net";
import tls from "node:tls";
import { Code } from "./code.js";
import { CodecRegistry, type Codec } from "./codec.js";
import { NapConnection, type ConnectionHandler } from "./connection.js";
import { DeadlineWheel, type Expirable } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import { FRAME_HEADER_BYTES } from "./frame.js";
import type { ClientInterceptor, ClientNext, ClientRequest, ClientResponse } from "./interceptor.js";
import { silentLogger, type Logger } from "./logger.js";
import { DEFAULTS, intOption, parseAddress, transportOptions, type TransportOptions } from "./options.js";
import { decodePkg, encodePkgFrame } from "./pkg.js";

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

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Server address(es), `"host:port"`; connections of the pool are spread over them. */
  address: string | string[];
  /** Connections in the pool; calls are multiplexed over them. Default 10. */
  poolSize?: number;
  /** Default time allowed for a call. Default 5000 ms. */
  timeoutMs?: number;
  /** Time allowed to establish a connection (TCP + TLS). Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Send a PING after this long without reading anything. Default 5000 ms. */
  keepaliveTimeMs?: number;
  /** Close the connection when nothing was read this long after a PING. Default 20000 ms. */
  keepaliveTimeoutMs?: number;
  /** Largest frame sent or accepted. Default 4 MiB. */
  maxFrameBytes?: number;
  /** First reconnect delay after a failed connect; grows ×1.6 with ±20 % jitter. Default 1000 ms. */
  reconnectInitialMs?: number;
  /** Largest reconnect delay. Default 120000 ms. */
  reconnectMaxMs?: number;
  /** Connect with TLS. */
  tls?: ClientTlsOptions;
  /** Interceptors, the first being the outermost. */
  interceptors?: ClientInterceptor[];
  /** Metadata sent with every call (a call's own metadata wins). */
  meta?: Record<string, string>;
  /** Codec for requests: `"proto"` (default), `"json"` or a codec given in `codecs`. */
  serializeType?: string;
  /** Send bare method names (`Login`) instead of fully-qualified ones, for dora v2 Go servers. */
  bareMethodNames?: boolean;
  /** Codecs beyond the built-in `proto` and `json`. */
  codecs?: Codec[];
  /** Where connection events are logged. Default: silent. */
  logger?: Logger;
}

/** Options of one call. */
export interface CallOptions {
  /** Time allowed for this call, in milliseconds. Default: the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Aborting fails the call at once with `Canceled`. */
  signal?: AbortSignal;
  /** Metadata for this call. */
  meta?: Record<string, string>;
  /** Receives the response metadata (framework keys removed) of a successful or failed call. */
  onResponseMeta?: (meta: Record<string, string>) => void;
}

const EMPTY_META: Record<string, string> = Object.freeze({}) as Record<string, string>;

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
export class Client {
  /** Validated options. Internal. */
  readonly transport: TransportOptions;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  readonly tls: ClientTlsOptions | undefined;
  readonly logger: Logger;
  readonly wheel = new DeadlineWheel();

  private readonly pool: ClientConnection[];
  private readonly codec: Codec;
  private readonly codecs: CodecRegistry;
  private readonly meta: Record<string, string> | undefined;
  private readonly bare: boolean;
  private readonly chain: ClientNext | undefined;
  private readonly names = new Map<DescMethod, string>();
  private next = 0;
  private seq = 0;
  private closed = false;

  constructor(options: ClientOptions) {
    const addresses = typeof options.address === "string" ? [options.address] : [...options.address];
    if (addresses.length === 0) throw new TypeError("option address must name at least one HOST:PORT");
    const parsed = addresses.map((a) => parseAddress("address", a));
    this.transport = transportOptions(options);
    const poolSize = intOption("poolSize", options.poolSize, DEFAULTS.poolSize, 1, 10000);
    this.timeoutMs = intOption("timeoutMs", options.timeoutMs, DEFAULTS.timeoutMs, 1);
    this.connectTimeoutMs = intOption("connectTimeoutMs", options.connectTimeoutMs, DEFAULTS.connectTimeoutMs, 1);
    this.reconnectInitialMs = intOption("reconnectInitialMs", options.reconnectInitialMs, DEFAULTS.reconnectInitialMs, 1);
    this.reconnectMaxMs = intOption("reconnectMaxMs", options.reconnectMaxMs, DEFAULTS.reconnectMaxMs, this.reconnectInitialMs);
    this.tls = options.tls;
    this.logger = options.logger ?? silentLogger;
    this.codecs = new CodecRegistry(options.codecs);
    const codec = this.codecs.get(options.serializeType ?? "proto");
    if (codec === undefined) throw new TypeError(`option serializeType: unknown codec ${JSON.stringify(options.serializeType)}`);
    this.codec = codec;
    this.meta = options.meta !== undefined && Object.keys(options.meta).length > 0 ? { ...options.meta } : undefined;
    this.bare = options.bareMethodNames ?? false;
    this.pool = [];
    for (let i = 0; i < poolSize; i++) this.pool.push(new ClientConnection(this, parsed[i % parsed.length]!));
    const interceptors = options.interceptors ?? [];
    if (interceptors.length > 0) {
      let next: ClientNext = (req) => this.send(req.desc, req.method, req.message, req.meta, req.timeoutMs, req.signal, true) as Promise<ClientResponse>;
      for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next);
      this.chain = next;
    }
  }

  /**
   * Calls a unary method. Rejects with a {@link DoraError}: the server's code,
   * or `Unavailable` (no connection), `DeadlineExceeded`, `Canceled`,
   * `OutOfRange` (request larger than the maximum frame).
   */
  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options?: CallOptions,
  ): Promise<MessageShape<O>> {
    let name = this.names.get(method);
    if (name === undefined) {
      name = this.bare ? method.name : `/${method.parent.typeName}/${method.name}`;
      this.names.set(method, name);
    }
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    let meta = this.meta;
    const callMeta = options?.meta;
    if (callMeta !== undefined) meta = meta === undefined ? callMeta : { ...meta, ...callMeta };
    if (this.chain === undefined && options?.onResponseMeta === undefined) {
      return this.send(method, name, request, meta ?? EMPTY_META, timeoutMs, options?.signal, false) as Promise<MessageShape<O>>;
    }
    return this.intercepted(method, name, request, meta, timeoutMs, options);
  }

  private async intercepted(
    method: DescMethodUnary,
    name: string,
    request: unknown,
    meta: Record<string, string> | undefined,
    timeoutMs: number,
    options: CallOptions | undefined,
  ): Promise<never> {
    const req: ClientRequest = { method: name, desc: method, message: request, meta: { ...meta }, timeoutMs, signal: options?.signal };
    const onMeta = options?.onResponseMeta;
    try {
      const res = await (this.chain === undefined ? (this.send(method, name, request, req.meta, timeoutMs, req.signal, true) as Promise<ClientResponse>) : this.chain(req));
      onMeta?.(res.meta);
      return res.message as never;
    } catch (err) {
      if (onMeta !== undefined && err instanceof DoraError) onMeta(err.metadata);
      throw err;
    }
  }

  /** Sends one call on a pooled connection. Resolves to the message, or to `{message, meta}` when `withMeta`. Internal. */
  private send(
    method: DescMethodUnary,
    name: string,
    message: unknown,
    meta: Record<string, string>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    withMeta: boolean,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(new DoraError(Code.Unavailable, "the client is closed"));
    if (signal?.aborted === true) return Promise.reject(new DoraError(Code.Canceled, "the call was aborted"));
    if (!(timeoutMs > 0)) return Promise.reject(new DoraError(Code.DeadlineExceeded, "the deadline has already passed"));
    let payload: Uint8Array;
    try {
      payload = this.codec.encode(method.input, message as never);
    } catch (err) {
      return Promise.reject(new DoraError(Code.Internal, `cannot encode ${method.input.typeName}: ${(err as Error).message}`, { cause: err }));
    }
    const conn = this.pick();
    if (conn instanceof DoraError) return Promise.reject(conn);
    const streamId = conn.nextStreamId();
    const outMeta: Record<string, string> = { "dora-timeout": String(Math.ceil(timeoutMs)) };
    for (const k in meta) if (!k.startsWith("dora-")) outMeta[k] = meta[k]!;
    const seq = (this.seq = this.seq >= Number.MAX_SAFE_INTEGER ? 1 : this.seq + 1);
    const frame = encodePkgFrame(streamId, 0, this.codec.name, seq, name, outMeta, payload);
    if (frame.length - FRAME_HEADER_BYTES > this.transport.maxFrameBytes) {
      return Promise.reject(new DoraError(Code.OutOfRange, `request of ${frame.length - FRAME_HEADER_BYTES} bytes exceeds the maximum frame size of ${this.transport.maxFrameBytes} bytes`));
    }
    const call = new PendingCall(this, conn, streamId, method.output, withMeta, signal);
    conn.start(call, frame);
    this.wheel.add(call, Date.now() + timeoutMs);
    return call.promise;
  }

  /** Codec for a response's serialize type. Internal. */
  codecFor(name: string): Codec | undefined {
    return name === this.codec.name ? this.codec : this.codecs.get(name);
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
    const last = pool.find((c) => c.lastError !== undefined)?.lastError;
    return new DoraError(Code.Unavailable, `no connection available${last === undefined ? "" : `: ${last}`}`);
  }

  /**
   * Closes the client: new calls fail with `Unavailable`, calls in flight run
   * to their end (each has a deadline), then every connection closes.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.pool.map((c) => c.close()));
    this.wheel.stop();
  }
}

/** Creates a {@link Client}; options are validated here and errors name the option. */
export function createClient(options: ClientOptions): Client {
  return new Client(options);
}

type ConnState = "idle" | "connecting" | "open" | "backoff";

/** One pooled connection with its reconnect state machine. Internal. */
class ClientConnection implements ConnectionHandler {
  state: ConnState = "idle";
  lastError: string | undefined;
  readonly pending = new Map<number, PendingCall>();
  private nap: NapConnection | undefined;
  private streamId = 0;
  private backoffMs: number;
  private retryAt = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private closing: (() => void) | undefined;
  /** A DATA frame arrived on the current socket. */
  private answered = false;

  constructor(
    private readonly client: Client,
    private readonly address: { host: string; port: number },
  ) {
    this.backoffMs = client.reconnectInitialMs;
  }

  get label(): string {
    return `${this.address.host}:${this.address.port}`;
  }

  usable(now: number): boolean {
    return this.state !== "backoff" || now >= this.retryAt;
  }

  nextStreamId(): number {
    do {
      this.streamId = this.streamId >= 0xffffffff ? 1 : this.streamId + 1;
    } while (this.pending.has(this.streamId));
    return this.streamId;
  }

  /** Registers the call and writes its frame, connecting first when needed (writes are buffered until connected). */
  start(call: PendingCall, frame: Buffer): void {
    if (this.state === "idle" || this.state === "backoff") this.connect();
    // Only a connection with calls in flight keeps the process alive (SPEC §4: a CLI exits when done).
    if (this.pending.size === 0) this.nap!.socket.ref();
    this.pending.set(call.streamId, call);
    this.nap!.write(frame);
  }

  private idle(): void {
    if (this.pending.size === 0) this.nap?.socket.unref();
  }

  private connect(): void {
    const client = this.client;
    const { host, port } = this.address;
    let socket: net.Socket;
    if (client.tls !== undefined) {
      const t = client.tls;
      const servername = t.servername ?? (net.isIP(host) === 0 ? host : undefined);
      socket = tls.connect({
        host,
        port,
        ...(t.ca !== undefined ? { ca: t.ca } : {}),
        ...(t.cert !== undefined ? { cert: t.cert } : {}),
        ...(t.key !== undefined ? { key: t.key } : {}),
        ...(servername !== undefined ? { servername } : {}),
        rejectUnauthorized: t.rejectUnauthorized ?? true,
      });
      socket.once("secureConnect", this.onConnected);
    } else {
      socket = net.connect({ host, port, noDelay: true });
      socket.once("connect", this.onConnected);
    }
    this.state = "connecting";
    this.answered = false;
    this.nap = new NapConnection(socket, client.transport, this);
    this.connectTimer = setTimeout(this.onConnectTimeout, client.connectTimeoutMs);
    this.connectTimer.unref();
  }

  private readonly onConnected = (): void => {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    if (this.state !== "connecting") return;
    this.state = "open";
    this.backoffMs = this.client.reconnectInitialMs;
    this.lastError = undefined;
    if (this.closing !== undefined) this.endIfIdle();
  };

  private readonly onConnectTimeout = (): void => {
    this.connectTimer = undefined;
    this.nap?.destroy(new Error(`connect timed out after ${this.client.connectTimeoutMs} ms`));
  };

  onData(streamId: number, payload: Buffer): void {
    this.answered = true;
    const call = this.pending.get(streamId);
    if (call === undefined) return; // late answer to a call that timed out or was aborted
    this.pending.delete(streamId);
    call.complete(payload);
    if (this.closing !== undefined) this.endIfIdle();
    else this.idle();
  }

  onClose(error: Error | undefined): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    const wasOpen = this.state === "open";
    const reason = describe(error, wasOpen, this.client.tls !== undefined, this.answered);
    this.lastError = reason;
    this.nap = undefined;
    if (wasOpen || this.closing !== undefined) {
      this.state = "idle";
    } else {
      // A failed connect: wait before the next attempt (gRPC-style backoff, SPEC §4).
      const jitter = 1 + (Math.random() * 0.4 - 0.2);
      this.retryAt = Date.now() + this.backoffMs * jitter;
      this.backoffMs = Math.min(this.backoffMs * 1.6, this.client.reconnectMaxMs);
      this.state = "backoff";
    }
    if (this.pending.size > 0) {
      const message = `connection to ${this.label} ${reason}`;
      for (const call of this.pending.values()) call.fail(new DoraError(Code.Unavailable, message, error === undefined ? undefined : { cause: error }));
      this.pending.clear();
    }
    if (this.closing !== undefined) {
      const done = this.closing;
      this.closing = undefined;
      done();
    }
  }

  /** Drops a call (deadline, abort) without closing the connection. */
  forget(call: PendingCall): void {
    this.pending.delete(call.streamId);
    if (this.closing !== undefined) this.endIfIdle();
    else this.idle();
  }

  close(): Promise<void> {
    if (this.nap === undefined) return Promise.resolve();
    // Whoever awaits close() is kept alive until the socket has closed.
    this.nap.socket.ref();
    return new Promise((resolve) => {
      this.closing = resolve;
      this.endIfIdle();
    });
  }

  private endIfIdle(): void {
    if (this.pending.size === 0 && this.nap !== undefined) {
      if (this.state === "open") this.nap.end();
      else this.nap.destroy();
    }
  }
}

/** Socket errors that are about the network, not TLS. */
const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "ECONNABORTED"]);

/**
 * Why a connection ended, for the `Unavailable` message of its calls. With
 * TLS 1.3 a server verifies the client certificate after the client's
 * handshake is done, so a rejected certificate shows as the server closing
 * the connection before any answer.
 */
function describe(error: Error | undefined, wasOpen: boolean, tls: boolean, answered: boolean): string {
  if (error === undefined) {
    if (!wasOpen) return "failed";
    return tls && !answered ? "closed by the server right after the TLS handshake (was the client certificate rejected?)" : "closed by the server";
  }
  const code = (error as NodeJS.ErrnoException).code;
  const tlsHint = tls && !answered && !(code !== undefined && NETWORK_ERRORS.has(code)) && !(error.name === "KeepaliveTimeoutError") ? "TLS error: " : "";
  return `${wasOpen ? "closed" : "failed"}: ${tlsHint}${error.message}`;
}

/** A call waiting for its answer. Internal. */
class PendingCall implements Expirable {
  deadlineSlot: Set<Expirable> | undefined = undefined;
  readonly promise: Promise<unknown>;
  private resolve!: (value: unknown) => void;
  private reject!: (reason: DoraError) => void;
  private settled = false;

  constructor(
    private readonly client: Client,
    private readonly conn: ClientConnection,
    readonly streamId: number,
    private readonly output: DescMessage,
    private readonly withMeta: boolean,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (signal !== undefined) signal.addEventListener("abort", this.onAbort);
  }

  private readonly onAbort = (): void => {
    this.conn.forget(this);
    this.fail(new DoraError(Code.Canceled, "the call was aborted"));
  };

  expire(): void {
    this.conn.forget(this);
    this.fail(new DoraError(Code.DeadlineExceeded, "deadline exceeded"));
  }

  fail(err: DoraError): void {
    if (this.settled) return;
    this.settle();
    this.reject(err);
  }

  complete(frame: Buffer): void {
    if (this.settled) return;
    this.settle();
    let pkg;
    try {
      pkg = decodePkg(frame);
    } catch {
      this.reject(new DoraError(Code.Internal, "malformed response from the server"));
      return;
    }
    const raw = pkg.head?.meta;
    const status = raw?.["dora-status"];
    if (status !== undefined && status !== "0") {
      const code = Number(status);
      this.reject(new DoraError(Number.isInteger(code) ? code : Code.Unknown, raw?.["dora-message"] ?? "", { metadata: stripMeta(raw) }));
      return;
    }
    const codec = this.client.codecFor(pkg.head?.serializeType ?? "");
    if (codec === undefined) {
      this.reject(new DoraError(Code.Internal, `the server answered with unknown serialize_type ${JSON.stringify(pkg.head?.serializeType)}`));
      return;
    }
    let message: unknown;
    try {
      message = codec.decode(this.output, pkg.payload);
    } catch (err) {
      this.reject(new DoraError(Code.Internal, `cannot decode ${this.output.typeName}: ${(err as Error).message}`));
      return;
    }
    this.resolve(this.withMeta ? { message, meta: stripMeta(raw) } : message);
  }

  private settle(): void {
    this.settled = true;
    this.client.wheel.remove(this);
    this.signal?.removeEventListener("abort", this.onAbort);
  }
}

function stripMeta(meta: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (meta !== undefined) for (const k in meta) if (!k.startsWith("dora-")) out[k] = meta[k]!;
  return out;
}
