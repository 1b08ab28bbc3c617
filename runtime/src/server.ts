/**
 * The dora server (SPEC §4): `Server` and `createServer`.
 */
import type { DescService } from "@bufbuild/protobuf";
import net from "node:net";
import tls, { type PeerCertificate, type TLSSocket } from "node:tls";
import { Code } from "./code.js";
import { DeadlineWheel } from "./deadline-wheel.js";
import { DoraError } from "./dora-error.js";
import type { FrameChannel, FrameListener } from "./frame-channel.js";
import type { Peer } from "./handler-context.js";
import type { Interceptor } from "./interceptor.js";
import { createDefaultServerLogger, type Logger } from "./logger.js";
import { MethodRouter } from "./method-router.js";
import { NapConnection, type NapConnectionOptions } from "./nap-connection.js";
import { serverConfig, type ServerConfig } from "./options.js";
import type { ServerOptions } from "./server-options.js";
import { ServerConnection, type ServerCore } from "./server-connection.js";

/**
 * A dora server: serves registered services over TCP, TLS or mutual TLS on
 * the dora v2 protocol (SPEC §3, §4). Create one with {@link createServer}.
 *
 * ```ts
 * const server = createServer();
 * registerKvService(server, new KvHandler());
 * const { host, port } = await server.listen({ port: 0 });
 * ```
 */
export interface Server {
  /**
   * Registers every rpc of `service`. `implementation[method.localName]` is
   * called with the request and a `HandlerContext`; a method the
   * implementation lacks answers `Unimplemented`. Generated `registerXxx`
   * functions call this. Streaming rpcs are served as streams
   * (docs/protocol.md "Streaming"): their handlers take and return
   * `AsyncIterable`s as the generated interface says.
   */
  register(service: DescService, implementation: object): this;
  /** Adds interceptors after the ones already installed (they become inner ones). */
  use(...interceptors: Interceptor[]): this;
  /** Starts listening. Port 0 picks a free port; the bound address is returned. Default host 127.0.0.1. */
  listen(options?: { host?: string; port?: number }): Promise<{ host: string; port: number }>;
  /** The bound address, or undefined before `listen`. */
  address(): { host: string; port: number } | undefined;
  /**
   * Graceful shutdown: stop accepting connections; calls that arrive now get
   * `Unavailable`; calls in flight (streams included) get `closeGraceMs` to
   * finish, then open streams end with `Unavailable`, every connection closes
   * and their handlers' signals abort. Resolves when all is closed.
   */
  close(): Promise<void>;
}

/** Creates a {@link Server}; options are validated here and errors name the option. */
export function createServer(options: ServerOptions = {}): Server {
  return new DoraServer(options);
}

/**
 * The implementation behind {@link Server}. Not exported from the package:
 * its other members are for the connections it owns and the in-process client.
 */
export class DoraServer implements Server, ServerCore {
  readonly config: ServerConfig;
  readonly router = new MethodRouter();
  readonly logger: Logger;
  readonly wheel = new DeadlineWheel();
  interceptors: readonly Interceptor[];
  closing = false;

  private readonly connections = new Set<ServerConnection>();
  /** Every accepted TCP socket, including TLS ones still in their handshake. */
  private readonly sockets = new Set<net.Socket>();
  /** Open sockets per peer IP address (SPEC §4: `maxConnectionsPerAddress`); an address leaves the map with its last socket. */
  private readonly perAddress = new Map<string, number>();
  /** Handshake deadlines of TLS sockets, by `address:port` (the TLS socket that results has the same). */
  private readonly handshakes = new Map<string, NodeJS.Timeout>();
  private readonly netServer: net.Server;
  private readonly tls: boolean;
  private readonly napOptions: NapConnectionOptions;
  private closePromise: Promise<void> | undefined;
  private onAllClosed: (() => void) | undefined;
  /** Connections refused since the last refusal was logged, and when that was (epoch ms). */
  private refusedSinceLog = 0;
  private lastRefusalLog = 0;

  constructor(options: ServerOptions) {
    this.config = serverConfig(options);
    this.napOptions = { ...this.config.transport, pauseReadsWhileBlocked: true };
    this.logger = options.logger ?? createDefaultServerLogger();
    this.interceptors = [...(options.interceptors ?? [])];
    this.tls = options.tls !== undefined;
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
        },
        (socket) => this.secured(socket),
      );
      // A failed handshake leaves the socket open unless it is destroyed here.
      this.netServer.on("tlsClientError", (err, socket) => {
        this.logger.debug("tls handshake failed", { error: err.message });
        socket.destroy();
      });
    } else {
      this.netServer = net.createServer({ noDelay: true });
    }
    this.netServer.on("connection", (socket: net.Socket) => this.admit(socket));
  }

  register(service: DescService, implementation: object): this {
    this.router.register(service, implementation);
    return this;
  }

  use(...interceptors: Interceptor[]): this {
    this.interceptors = [...this.interceptors, ...interceptors];
    return this;
  }

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

  address(): { host: string; port: number } | undefined {
    const a = this.netServer.address();
    if (a === null || typeof a === "string") return undefined;
    return { host: a.address, port: a.port };
  }

  close(): Promise<void> {
    if (this.closePromise !== undefined) return this.closePromise;
    this.closing = true;
    this.closePromise = new Promise<void>((resolve) => {
      const listening = new Promise<void>((r) => (this.netServer.listening ? this.netServer.close(() => r()) : r()));
      for (const conn of this.connections) conn.closeIfIdle();
      const grace = setTimeout(() => {
        for (const conn of this.connections) conn.shutDown(new DoraError(Code.Unavailable, "server closed"));
        // TLS sockets still in their handshake are not connections yet; they would hold close() open.
        // They go on the next turn, after the streams' END frames have been written.
        setImmediate(() => {
          for (const socket of this.sockets) socket.destroy();
        });
      }, this.config.closeGraceMs);
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

  /**
   * Accepts a connection whose frames travel through `open`'s channel instead
   * of a socket (the in-process client). Returns undefined when the server is
   * shutting down.
   */
  acceptChannel(peer: Peer, open: (listener: FrameListener) => FrameChannel): ServerConnection | undefined {
    if (this.closing) return undefined;
    const conn = new ServerConnection(this, peer, open);
    this.connections.add(conn);
    return conn;
  }

  connectionClosed(conn: ServerConnection): void {
    this.connections.delete(conn);
    if (this.connections.size === 0 && this.onAllClosed !== undefined) {
      const done = this.onAllClosed;
      this.onAllClosed = undefined;
      done();
    }
  }

  /**
   * A TCP connection arrived (for TLS, before its handshake). SPEC §4: beyond
   * `maxConnections`, or `maxConnectionsPerAddress` from its address, it is
   * closed at once; connections already open are not touched.
   */
  private admit(socket: net.Socket): void {
    const address = socket.remoteAddress ?? "";
    const fromAddress = this.perAddress.get(address) ?? 0;
    const config = this.config;
    if (this.sockets.size >= config.maxConnections || fromAddress >= config.maxConnectionsPerAddress) {
      socket.destroy();
      this.refused(this.sockets.size >= config.maxConnections ? `${config.maxConnections} connections are open (maxConnections)` : `${fromAddress} connections from ${address} are open (maxConnectionsPerAddress)`);
      return;
    }
    this.sockets.add(socket);
    this.perAddress.set(address, fromAddress + 1);
    const handshakeKey = this.tls ? `${address}:${socket.remotePort ?? 0}` : undefined;
    socket.once("close", () => {
      this.sockets.delete(socket);
      const n = this.perAddress.get(address)! - 1;
      if (n === 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
      if (handshakeKey !== undefined) this.clearHandshake(handshakeKey);
    });
    if (handshakeKey === undefined) {
      this.accept(socket);
      return;
    }
    // SPEC §4: a TLS handshake must complete within handshakeTimeoutMs, counted from
    // the connection (a peer that drips its handshake is not given more time).
    const timer = setTimeout(() => {
      this.handshakes.delete(handshakeKey);
      this.logger.debug("tls handshake timed out", { peer: address, timeoutMs: config.handshakeTimeoutMs });
      socket.destroy();
    }, config.handshakeTimeoutMs);
    timer.unref();
    this.handshakes.set(handshakeKey, timer);
  }

  /** Logs refused connections, at most one line per second. */
  private refused(reason: string): void {
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.lastRefusalLog < 1000) return;
    this.logger.warn(`refused ${this.refusedSinceLog} connection(s): ${reason}`);
    this.refusedSinceLog = 0;
    this.lastRefusalLog = now;
  }

  private clearHandshake(key: string): void {
    const timer = this.handshakes.get(key);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.handshakes.delete(key);
    }
  }

  /** A TLS handshake completed. */
  private secured(socket: TLSSocket): void {
    this.clearHandshake(`${socket.remoteAddress ?? ""}:${socket.remotePort ?? 0}`);
    this.accept(socket);
  }

  private accept(socket: net.Socket): void {
    // SPEC §4: the peer is captured now; after the client has gone the socket no longer knows it.
    if (socket.destroyed) return;
    const peer: Peer = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0, certificate: this.tls ? certificateOf(socket as TLSSocket) : undefined };
    if (this.acceptChannel(peer, (listener) => new NapConnection(socket, this.napOptions, listener)) === undefined) socket.destroy();
  }
}

/** The client certificate of a TLS socket, or undefined when it sent none. */
function certificateOf(socket: TLSSocket): PeerCertificate | undefined {
  const cert = socket.getPeerCertificate();
  return cert !== null && Object.keys(cert).length > 0 ? cert : undefined;
}
