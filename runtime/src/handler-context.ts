import type { PeerCertificate } from "node:tls";
import { createContextValues, type ContextValues } from "./context-values.js";

/** The other end of a server-side call, captured when its connection was accepted. */
export interface Peer {
  /** Remote IP address, e.g. `"127.0.0.1"`; `"in-process"` for calls of an in-process client. */
  readonly address: string;
  /** Remote port; 0 for calls of an in-process client. */
  readonly port: number;
  /** The client's TLS certificate when the connection is TLS and one was sent; else undefined. */
  readonly certificate: PeerCertificate | undefined;
}

/**
 * What a handler knows about its call (SPEC §4): method, metadata both ways,
 * peer, deadline, cancellation and per-call values.
 */
export interface HandlerContext {
  /** Fully-qualified method name, e.g. `"/kv.v1.KvService/Login"` (also for calls that used a bare name). */
  readonly method: string;
  /** Request metadata sent by the client; framework keys (`dora-…`) are not included. */
  readonly requestMeta: Readonly<Record<string, string>>;
  /**
   * Response metadata the handler wants to send; keys starting with `dora-`
   * are dropped. A streaming call sends it as its response headers, with its
   * first response message (or its end).
   */
  readonly responseMeta: Record<string, string>;
  /**
   * Response trailers a streaming handler wants sent with the end of its
   * stream (after the last message); keys starting with `dora-` are dropped.
   * A unary answer has one set of metadata: there this is `responseMeta` itself.
   */
  readonly responseTrailers: Record<string, string>;
  /** The peer that sent the call. */
  readonly peer: Peer;
  /** Absolute deadline in epoch milliseconds (`Date.now()` clock), or undefined when the client sent none. */
  readonly deadline: number | undefined;
  /** Aborts when the deadline passes, the connection closes or the server shuts down. */
  readonly signal: AbortSignal;
  /** Values that interceptors set for this call (see {@link createContextKey}). */
  readonly values: ContextValues;
}

/**
 * Builds a {@link HandlerContext} without a socket, for unit tests of handlers.
 * Defaults: method `/test.v1.TestService/Test`, no metadata or trailers, peer
 * `127.0.0.1:0`, no deadline, a signal that never aborts, empty values.
 */
export function createHandlerContext(
  init: {
    method?: string;
    requestMeta?: Record<string, string>;
    responseMeta?: Record<string, string>;
    responseTrailers?: Record<string, string>;
    peer?: Partial<Peer>;
    deadline?: number;
    signal?: AbortSignal;
    values?: ContextValues;
  } = {},
): HandlerContext {
  return {
    method: init.method ?? "/test.v1.TestService/Test",
    requestMeta: init.requestMeta ?? {},
    responseMeta: init.responseMeta ?? {},
    responseTrailers: init.responseTrailers ?? {},
    peer: { address: init.peer?.address ?? "127.0.0.1", port: init.peer?.port ?? 0, certificate: init.peer?.certificate },
    deadline: init.deadline,
    signal: init.signal ?? new AbortController().signal,
    values: init.values ?? createContextValues(),
  };
}
