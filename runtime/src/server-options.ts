/**
 * The options of a dora server (SPEC §4), validated by options.ts.
 */
import type { Codec } from "./codec.js";
import type { Interceptor } from "./interceptor.js";
import type { Logger } from "./logger.js";

/** TLS settings of a server. With `ca`, clients must present a certificate signed by `ca` (mutual TLS). */
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
  /** Send a PING after this long without reading a whole frame (liveness counts frames, not bytes). Default 5000 ms. */
  keepaliveTimeMs?: number;
  /** Close the connection when no whole frame was read this long after a PING. Default 20000 ms. */
  keepaliveTimeoutMs?: number;
  /**
   * A frame whose first bytes have arrived must be complete within this time,
   * else the connection closes (a peer that drips a frame cannot hold its
   * buffer for ever). Default 20000 ms.
   */
  frameTimeoutMs?: number;
  /** A TLS handshake must complete within this time, else the socket is destroyed. Default 10000 ms. */
  handshakeTimeoutMs?: number;
  /**
   * Connections open at once (TLS handshakes included); a new one beyond it is
   * closed at once, with at most one log line per second. Default 10000.
   */
  maxConnections?: number;
  /** Connections open at once from one peer IP address, refused like `maxConnections` beyond it. Default 1000. */
  maxConnectionsPerAddress?: number;
  /** Largest frame accepted or sent; a larger declared length closes the connection. Default 4 MiB (dora v2 Go peers: 64 KiB, see `doraV2CompatServerOptions`). */
  maxFrameBytes?: number;
  /** Largest request metadata (keys + values); beyond it the call gets `BadRequest`. Default 16 KiB. */
  maxMetadataBytes?: number;
  /** Calls in flight per connection, streams included; beyond it a call gets `ResourceExhausted`. Default 1000. */
  maxConcurrentCalls?: number;
  /**
   * Flow-control window of each stream's requests, in message bytes: how much
   * a client may send ahead of the handler reading it. Default and minimum
   * 65536 (the protocol's default window; a larger one is announced to the
   * client when the stream opens); at most 2^31−1.
   */
  streamWindowBytes?: number;
  /** How long `close()` lets calls in flight finish before closing connections. Default 5000 ms. */
  closeGraceMs?: number;
  /** Serve TLS (and mutual TLS with `ca`). */
  tls?: ServerTlsOptions;
  /** Interceptors, the first being the outermost. */
  interceptors?: Interceptor[];
  /** Codecs beyond the built-in `proto` and `json`. */
  codecs?: Codec[];
  /**
   * Where handler failures (name, message and stack; never request data or
   * metadata values) and connection events are logged. Default: errors to
   * stderr; `silentLogger` turns that off.
   */
  logger?: Logger;
}
