/**
 * The options of a dora client and of one call (SPEC §4), validated by options.ts.
 */
import type { Codec } from "./codec.js";
import type { ContextValues } from "./context-values.js";
import type { Interceptor } from "./interceptor.js";
import type { Logger } from "./logger.js";

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
  /**
   * Flow-control window of each stream's responses, in message bytes: how
   * much a server may send ahead of the caller reading it. Default and
   * minimum 65536 (the protocol's default window; a larger one is announced
   * to the server when the stream opens); at most 2^31−1.
   */
  streamWindowBytes?: number;
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
  /** Send a PING after this long without reading a whole frame (liveness counts frames, not bytes). Default 5000 ms. */
  keepaliveTimeMs?: number;
  /** A frame whose first bytes have arrived must be complete within this time, else the connection closes. Default 20000 ms. */
  frameTimeoutMs?: number;
  /** Close the connection when no whole frame was read this long after a PING. Default 20000 ms. */
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
  /**
   * Time allowed for this call, in milliseconds. Default: the client's
   * `timeoutMs` for a unary call; none for a streaming call (a stream, such
   * as a watch, may stay open as long as both sides want).
   */
  timeoutMs?: number;
  /** Aborting fails the call at once with `Canceled`. */
  signal?: AbortSignal;
  /** Metadata for this call. */
  meta?: Record<string, string>;
  /** Per-call values for the client's interceptors. Default: an empty collection. */
  values?: ContextValues;
  /** Receives the response metadata (framework keys removed) of a successful unary call, or of a unary call the server failed. */
  onResponseMeta?: (meta: Readonly<Record<string, string>>) => void;
  /** Streaming calls: receives the response headers (framework keys removed) when the server's first frame arrives. */
  onHeader?: (headers: Readonly<Record<string, string>>) => void;
  /** Streaming calls: receives the response trailers (framework keys removed) when the stream ends, with an error or not. */
  onTrailer?: (trailers: Readonly<Record<string, string>>) => void;
}
