import type { PeerCertificate } from "node:tls";

/** The other end of a server-side call. */
export interface Peer {
  /** Remote IP address, e.g. `"127.0.0.1"`. */
  readonly address: string;
  /** Remote port. */
  readonly port: number;
  /** The client's TLS certificate when the connection is TLS and one was sent; else undefined. */
  readonly certificate: PeerCertificate | undefined;
}

/**
 * What a handler and a server interceptor know about a call.
 */
export interface HandlerContext {
  /** Fully-qualified method name, e.g. `"/kv.v1.KvService/Login"` (also for calls that used a bare name). */
  readonly method: string;
  /** Request metadata sent by the client; framework keys (`dora-…`) are not included. */
  readonly requestMeta: Readonly<Record<string, string>>;
  /** Response metadata the handler wants to send; keys starting with `dora-` are dropped. */
  readonly responseMeta: Record<string, string>;
  /** The peer that sent the call. */
  readonly peer: Peer;
  /** Absolute deadline in epoch milliseconds (`Date.now()` clock), or undefined when the client sent none. */
  readonly deadline: number | undefined;
  /** Aborts when the deadline passes, the connection closes or the server shuts down. */
  readonly signal: AbortSignal;
}

/**
 * Builds a {@link HandlerContext} without a socket, for unit tests of handlers
 * and interceptors.
 */
export function createHandlerContext(init: {
  method?: string;
  requestMeta?: Record<string, string>;
  responseMeta?: Record<string, string>;
  peer?: Partial<Peer>;
  deadline?: number;
  signal?: AbortSignal;
} = {}): HandlerContext {
  return {
    method: init.method ?? "/test.v1.TestService/Test",
    requestMeta: init.requestMeta ?? {},
    responseMeta: init.responseMeta ?? {},
    peer: { address: init.peer?.address ?? "127.0.0.1", port: init.peer?.port ?? 0, certificate: init.peer?.certificate },
    deadline: init.deadline,
    signal: init.signal ?? new AbortController().signal,
  };
}
