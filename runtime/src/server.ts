import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import net from "node:net";
import tls, { type PeerCertificate, type TLSSocket } from "node:tls";
import { Code } from "./code.js";
import { CodecRegistry, type Codec } from "./codec.js";
import { NapConnection, type ConnectionHandler } from "./connection.js";
import type { HandlerContext, Peer } from "./context.js";
import { DeadlineWheel, type Expirable } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import type { ServerInterceptor, ServerNext } from "./interceptor.js";
import { silentLogger, type Logger } from "./logger.js";
import { DEFAULTS, intOption, transportOptions, type TransportOptions } from "./options.js";
import { FRAME_HEADER_BYTES } from "./frame.js";
import { decodePkg, encodePkgFrame, type Head } from "./pkg.js";

/** TLS settings of a server. With `ca` and `requestClientCert`, clients must present a certificate signed by `ca` (mutual TLS). */
export interface ServerTlsOptions {
  /** PEM certificate chain of the server. */
  cert: string | Buffer;
  /** PEM private key of the server. */
  key: string | Buffer;
  /** PEM CA certificate(s) that sign client certificates. */
  ca?: string | Buffer;
  /** Require and verify a client certificate (mutual TLS). Default: true when `ca` is given. */
  requestClientCert?: boolean;
}

/** Options of {@link createServer}. Every field is optional. */
export interface ServerOptions {
  /** Send a PING after this long without reading anything. Default 5000 ms. */
  keepaliveTimeMs?: number;
  /** Close the connection when nothing was read this long after a PING. Default 20000 ms. */
  keepaliveTimeoutMs?: number;
  /** Largest frame accepted or sent; a larger declared length closes the connection. Default 4 MiB. */
  maxFrameBytes?: number;
  /** Largest request metadata (keys + values); beyond it the call gets `BadRequest`. Default 16 KiB. */
  maxMetadataBytes?: number;
  /** Calls in flight per connection; beyond it a call gets `ResourceExhausted`. Default 1000. */
  maxConcurrentCalls?: number;
  /** How long `close()` lets calls in flight finish before closing connections. Default 5000 ms. */
  closeGraceMs?: number;
  /** Serve TLS (and mutual TLS with `ca`). */
  tls?: ServerTlsOptions;
  /** Interceptors, the first being the outermost. */
  interceptors?: ServerInterceptor[];
  /** Codecs beyond the built-in `proto` and `json`. */
  codecs?: Codec[];
  /** Where errors thrown by handlers are logged. Default: silent. */
  logger?: Logger;
}

/** A registered method. Internal. */
interface MethodEntry {
  readonly name: string;
  readonly input: DescMessage;
  readonly output: DescMessage;
  readonly handler: ServerNext;
  invoke: ServerNext;
}

/** Marks a bare method name that more than one service defines. */
const AMBIGUOUS: MethodEntry = {
  name: "",
  input: undefined as unknown as DescMessage,
  output: undefined as unknown as DescMessage,
  handler: () => Promise.reject(new DoraError(Code.Unimplemented)),
  invoke: () => Promise.reject(new DoraError(Code.Unimplemented)),
};

const TIMEOUT_KEY = "dora-timeout";
const STATUS_KEY = "dora-status";
const MESSAGE_KEY = "dora-message";

/**
 * A dora server: serves registered services over TCP, TLS or mutual TLS on
 * the dora v2 protocol (SPEC §3, §4).
 *
 * ```ts
 * const server = createServer();
 * registerKvService(server, new KvHandler());
 * const { host, port } = await server.listen({ port: 0 });
 * ```
 */
export class Server {
  /** Validated options. Internal. */
  readonly transport: TransportOptions;
  readonly maxMetadataBytes: number;
  readonly maxConcurrentCalls: number;
  readonly closeGraceMs: number;
  readonly codecs: CodecRegistry;
  readonly logger: Logger;
  readonly wheel = new DeadlineWheel();
  /** True once `close()` was called. */
  closing = false;

  private readonly methods = new Map<string, MethodEntry>();
  private readonly bareMethods = new Map<string, MethodEntry>();
  private interceptors: ServerInterceptor[];
  private readonly connections = new Set<ServerConnection>();
  /** Every accepted TCP socket, including TLS ones still in their handshake. */
  private readonly sockets = new Set<net.Socket>();
  private readonly netServer: net.Server;
  private closePromise: Promise<void> | undefined;

  constructor(options: ServerOptions = {}) {
    this.transport = transportOptions(options);
    this.maxMetadataBytes = intOption("maxMetadataBytes", options.maxMetadataBytes, DEFAULTS.maxMetadataBytes, 0);
    this.maxConcurrentCalls = intOption("maxConcurrentCalls", options.maxConcurrentCalls, DEFAULTS.maxConcurrentCalls, 1);
    this.closeGraceMs = intOption("closeGraceMs", options.closeGraceMs, DEFAULTS.closeGraceMs, 0);
    this.codecs = new CodecRegistry(options.codecs);
    this.logger = options.logger ?? silentLogger;
    this.interceptors = [...(options.interceptors ?? [])];
    const onSocket = (socket: net.Socket): void => this.accept(socket);
    if (options.tls !== undefined) {
      const t = options.tls;
      const requestCert = t.requestClientCert ?? t.ca !== undefined;
      this.netServer = tls.createServer(
        {
          cert: t.cert,
          key: t.key,
          ...(t.ca !== undefined ? { ca: t.ca } : {}),
          requestCert,
          rejectUnauthorized: requestCert,
          // A peer that never finishes its handshake is dropped like a silent one.
          handshakeTimeout: this.transport.keepaliveTimeMs + this.transport.keepaliveTimeoutMs,
        },
        onSocket,
      );
      this.netServer.on("tlsClientError", (err) => this.logger.debug("tls handshake failed", { error: err.message }));
    } else {
      this.netServer = net.createServer({ noDelay: true }, onSocket);
    }
    this.netServer.on("connection", (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  /**
   * Registers every rpc of `service`. `implementation[method.localName]` is
   * called with the request and a {@link HandlerContext}; a method the
   * implementation lacks answers `Unimplemented`. Generated `registerXxx`
   * functions call this. Throws for streaming rpcs (not in dora v2).
   */
  register(service: DescService, implementation: object): this {
    for (const method of service.methods) {
      this.registerMethod(method, implementation);
    }
    return this;
  }

  /** Adds interceptors after the ones already installed (they become inner ones). */
  use(...interceptors: ServerInterceptor[]): this {
    this.interceptors.push(...interceptors);
    for (const entry of this.methods.values()) entry.invoke = this.compose(entry.handler);
    return this;
  }

  /** Starts listening. Port 0 picks a free port; the bound address is returned. Default host 127.0.0.1. */
  listen(options: { host?: string; port?: number } = {}): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.netServer.once("error", onError);
      this.netServer.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 }, () => {
        this.netServer.off("error", onError);
        resolve(this.address()!);
      });
    });
  }

  /** The bound address, or undefined before `listen`. */
  address(): { host: string; port: number } | undefined {
    const a = this.netServer.address();
    if (a === null || typeof a === "string") return undefined;
    return { host: a.address, port: a.port };
  }

  /**
   * Graceful shutdown: stop accepting connections; calls that arrive now get
   * `Unavailable`; calls in flight get `closeGraceMs` to finish, then every
   * connection closes (their handlers' signals abort). Resolves when all is closed.
   */
  close(): Promise<void> {
    if (this.closePromise !== undefined) return this.closePromise;
    this.closing = true;
    this.closePromise = new Promise<void>((resolve) => {
      const listening = new Promise<void>((r) => (this.netServer.listening ? this.netServer.close(() => r()) : r()));
      for (const conn of this.connections) conn.closeIfIdle();
      const grace = setTimeout(() => {
        for (const conn of this.connections) conn.destroy(new DoraError(Code.Unavailable, "server closed"));
        // TLS sockets still in their handshake are not connections yet; they would hold close() open.
        for (const socket of this.sockets) socket.destroy();
      }, this.closeGraceMs);
      grace.unref();
      const allClosed = new Promise<void>((r) => {
        if (this.connections.size === 0) r();
        else this.onAllClosed = r;
      });
      void Promise.all([listening, allClosed]).then(() => {
        clearTimeout(grace);
        this.wheel.stop();
        resolve();
      });
    });
    return this.closePromise;
  }

  private onAllClosed: (() => void) | undefined;

  /** Finds a method by fully-qualified or bare name (SPEC §3.3). Internal. */
  lookup(name: string): MethodEntry | undefined {
    return this.methods.get(name) ?? (name.charCodeAt(0) === 47 /* "/" */ ? undefined : this.bareMethods.get(name));
  }

  /** Internal: a connection closed. */
  removeConnection(conn: ServerConnection): void {
    this.connections.delete(conn);
    if (this.connections.size === 0 && this.onAllClosed !== undefined) {
      const done = this.onAllClosed;
      this.onAllClosed = undefined;
      done();
    }
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(new ServerConnection(this, socket));
  }

  private registerMethod(method: DescMethod, implementation: object): void {
    const service = method.parent;
    if (method.methodKind !== "unary") {
      throw new Error(`dora: ${service.typeName}.${method.name} is a ${method.methodKind} rpc; only unary rpcs are supported`);
    }
    const name = `/${service.typeName}/${method.name}`;
    const fn = (implementation as Record<string, unknown>)[method.localName];
    const handler: ServerNext =
      typeof fn === "function"
        ? (request, context) => (fn as ServerNext).call(implementation, request, context)
        : () => Promise.reject(new DoraError(Code.Unimplemented, `method ${name} is not implemented`));
    const entry: MethodEntry = { name, input: method.input, output: method.output, handler, invoke: this.compose(handler) };
    this.methods.set(name, entry);
    const bare = this.bareMethods.get(method.name);
    this.bareMethods.set(method.name, bare === undefined || bare.name === name ? entry : AMBIGUOUS);
  }

  private compose(handler: ServerNext): ServerNext {
    let next = handler;
    for (let i = this.interceptors.length - 1; i >= 0; i--) next = this.interceptors[i]!(next);
    return next;
  }
}

/** Creates a {@link Server}; options are validated here and errors name the option. */
export function createServer(options?: ServerOptions): Server {
  return new Server(options);
}

/** One accepted connection. Internal. */
class ServerConnection implements ConnectionHandler {
  readonly conn: NapConnection;
  readonly calls = new Map<number, ServerCall>();
  private paused = false;
  private peerInfo: Peer | undefined;

  constructor(
    readonly server: Server,
    readonly socket: net.Socket,
  ) {
    this.conn = new NapConnection(socket, server.transport, this);
  }

  get peer(): Peer {
    if (this.peerInfo === undefined) {
      const socket = this.socket;
      let cert: PeerCertificate | undefined | null = null;
      this.peerInfo = {
        address: socket.remoteAddress ?? "",
        port: socket.remotePort ?? 0,
        get certificate(): PeerCertificate | undefined {
          if (cert === null) {
            const c = "getPeerCertificate" in socket ? (socket as TLSSocket).getPeerCertificate() : undefined;
            cert = c !== undefined && Object.keys(c).length > 0 ? c : undefined;
          }
          return cert;
        },
      };
    }
    return this.peerInfo;
  }

  onData(streamId: number, payload: Buffer): void {
    if (this.calls.has(streamId)) {
      this.conn.destroy(new Error(`protocol error: stream id ${streamId} is already in flight`));
      return;
    }
    let head: Head | undefined;
    let body: Uint8Array;
    try {
      const pkg = decodePkg(payload);
      head = pkg.head;
      body = pkg.payload;
    } catch {
      this.reject(streamId, undefined, Code.BadRequest, "malformed Pkg");
      return;
    }
    if (head === undefined) return this.reject(streamId, undefined, Code.BadRequest, "Pkg has no head");
    if (head.method === "") return this.reject(streamId, head, Code.BadRequest, "empty method");
    const server = this.server;
    const codec = server.codecs.get(head.serializeType);
    if (codec === undefined) return this.reject(streamId, head, Code.BadRequest, `unknown serialize_type ${JSON.stringify(head.serializeType)}`);
    if (head.metaBytes > server.maxMetadataBytes) {
      return this.reject(streamId, head, Code.BadRequest, `metadata exceeds ${server.maxMetadataBytes} bytes`);
    }
    let meta = head.meta;
    let deadline: number | undefined;
    if (meta !== undefined) {
      const timeout = meta[TIMEOUT_KEY];
      if (timeout !== undefined) {
        if (!/^\d{1,15}$/.test(timeout)) return this.reject(streamId, head, Code.BadRequest, `invalid ${TIMEOUT_KEY} ${JSON.stringify(timeout)}`);
        deadline = Date.now() + Number(timeout);
      }
      meta = userMeta(meta);
    }
    if (server.closing) return this.reject(streamId, head, Code.Unavailable, "server is shutting down");
    if (this.calls.size >= server.maxConcurrentCalls) {
      return this.reject(streamId, head, Code.ResourceExhausted, `more than ${server.maxConcurrentCalls} calls in flight on this connection`);
    }
    const entry = server.lookup(head.method);
    if (entry === undefined) return this.reject(streamId, head, Code.Unimplemented, `unknown method ${JSON.stringify(head.method)}`);
    if (entry.name === "") return this.reject(streamId, head, Code.Unimplemented, `method name ${JSON.stringify(head.method)} is ambiguous`);
    let request: unknown;
    try {
      request = codec.decode(entry.input, body);
    } catch {
      return this.reject(streamId, head, Code.BadRequest, `cannot decode ${entry.input.typeName} with the ${codec.name} codec`);
    }
    const call = new ServerCall(this, streamId, head, codec, entry, meta ?? EMPTY_META, deadline);
    this.calls.set(streamId, call);
    if (deadline !== undefined) server.wheel.add(call, deadline);
    void call.run(request);
  }

  /** Sends one response frame, pausing reads while the socket buffer is full (backpressure). */
  send(frame: Buffer): void {
    if (!this.conn.write(frame) && !this.paused && !this.conn.closed) {
      this.paused = true;
      this.socket.pause();
      this.socket.once("drain", this.resume);
    }
  }

  private readonly resume = (): void => {
    this.paused = false;
    this.socket.resume();
  };

  /** Answers a call that never reached a handler. */
  reject(streamId: number, head: Head | undefined, code: Code, message: string): void {
    this.send(
      encodePkgFrame(streamId, head?.version ?? 0, head?.serializeType ?? "", head?.seq ?? 0, head?.method ?? "", { [STATUS_KEY]: String(code), [MESSAGE_KEY]: message }, EMPTY_BYTES),
    );
  }

  finished(call: ServerCall): void {
    this.calls.delete(call.streamId);
    if (this.server.closing && this.calls.size === 0) this.conn.end();
  }

  closeIfIdle(): void {
    if (this.calls.size === 0) this.conn.end();
  }

  destroy(reason: Error): void {
    this.conn.destroy(reason);
  }

  onClose(error: Error | undefined): void {
    if (error !== undefined) this.server.logger.debug("connection closed", { peer: this.socket.remoteAddress, error: error.message });
    for (const call of this.calls.values()) call.abort(new DoraError(Code.Canceled, "connection closed"));
    this.calls.clear();
    this.server.removeConnection(this);
  }
}

const EMPTY_META: Readonly<Record<string, string>> = Object.freeze({});
const EMPTY_BYTES = new Uint8Array(0);

/** Metadata without the framework's `dora-` keys. */
function userMeta(meta: Record<string, string>): Record<string, string> {
  for (const key in meta) {
    if (key.startsWith("dora-")) {
      const copy: Record<string, string> = {};
      for (const k in meta) if (!k.startsWith("dora-")) copy[k] = meta[k]!;
      return copy;
    }
  }
  return meta;
}

/** One call in flight; it is also the handler's context. Internal. */
class ServerCall implements HandlerContext, Expirable {
  deadlineSlot: Set<Expirable> | undefined = undefined;
  private done = false;
  private controller: AbortController | undefined;
  private respMeta: Record<string, string> | undefined;

  constructor(
    private readonly connection: ServerConnection,
    readonly streamId: number,
    private readonly head: Head,
    private readonly codec: Codec,
    private readonly entry: MethodEntry,
    readonly requestMeta: Readonly<Record<string, string>>,
    readonly deadline: number | undefined,
  ) {}

  get method(): string {
    return this.entry.name;
  }

  get peer(): Peer {
    return this.connection.peer;
  }

  get responseMeta(): Record<string, string> {
    return (this.respMeta ??= {});
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  async run(request: unknown): Promise<void> {
    let response: unknown;
    try {
      response = await this.entry.invoke(request, this);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.done) return;
    let payload: Uint8Array;
    try {
      payload = this.codec.encode(this.entry.output, response as never);
    } catch (err) {
      this.connection.server.logger.error("cannot encode response", { method: this.entry.name, error: err });
      this.respond(Code.Internal, "cannot encode the response", EMPTY_BYTES, undefined);
      return;
    }
    this.respond(Code.Ok, "", payload, undefined);
  }

  /** Deadline passed: answer `DeadlineExceeded` and abort the handler's signal. */
  expire(): void {
    if (this.done) return;
    this.respond(Code.DeadlineExceeded, "deadline exceeded", EMPTY_BYTES, undefined);
    this.controller?.abort(new DoraError(Code.DeadlineExceeded, "deadline exceeded"));
  }

  /** The connection closed or the server shut down: abort the handler, send nothing. */
  abort(reason: DoraError): void {
    if (this.done) return;
    this.done = true;
    this.connection.server.wheel.remove(this);
    this.controller?.abort(reason);
  }

  private fail(err: unknown): void {
    if (this.done) return;
    if (err instanceof DoraError) {
      this.respond(err.code, err.rawMessage, EMPTY_BYTES, err.metadata);
    } else {
      this.connection.server.logger.error("handler failed", { method: this.entry.name, error: err });
      this.respond(Code.Unknown, "unknown error", EMPTY_BYTES, undefined);
    }
  }

  private respond(code: number, message: string, payload: Uint8Array, errorMeta: Record<string, string> | undefined): void {
    this.done = true;
    const connection = this.connection;
    connection.server.wheel.remove(this);
    let meta = this.respMeta;
    if (meta !== undefined || errorMeta !== undefined || code !== Code.Ok) {
      const out: Record<string, string> = {};
      if (meta !== undefined) for (const k in meta) if (!k.startsWith("dora-")) out[k] = String(meta[k]);
      if (errorMeta !== undefined) for (const k in errorMeta) if (!k.startsWith("dora-")) out[k] = String(errorMeta[k]);
      if (code !== Code.Ok) {
        out[STATUS_KEY] = String(code);
        if (message !== "") out[MESSAGE_KEY] = message;
      }
      meta = out;
    }
    const h = this.head;
    if (!connection.conn.closed) {
      let frame = encodePkgFrame(this.streamId, h.version, h.serializeType, h.seq, h.method, meta, payload);
      if (frame.length - FRAME_HEADER_BYTES > connection.server.transport.maxFrameBytes) {
        // SPEC §3.1: a sender never sends an oversize frame; the call fails with OutOfRange instead.
        frame = encodePkgFrame(this.streamId, h.version, h.serializeType, h.seq, h.method, { [STATUS_KEY]: String(Code.OutOfRange), [MESSAGE_KEY]: "response exceeds the maximum frame size" }, EMPTY_BYTES);
      }
      connection.send(frame);
    }
    connection.finished(this);
  }
}
