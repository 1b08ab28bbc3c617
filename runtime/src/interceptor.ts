/**
 * Interceptors: one type for client and server, over unary and streaming
 * calls alike (SPEC §4). Modelled on connect-es: `(next) => async (req) => next(req)`,
 * with `req.stream` telling the two call shapes apart.
 */
import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageShape } from "@bufbuild/protobuf";
import type { ContextValues } from "./context-values.js";
import type { Peer } from "./handler-context.js";

/** What unary and streaming requests share. */
interface CallRequest {
  /** Fully-qualified method name, e.g. `"/kv.v1.KvService/Login"` (also when the wire carries a bare name). */
  readonly method: string;
  /** Request metadata: on the client what will be sent, on the server what arrived; never `dora-` keys. */
  readonly meta: Readonly<Record<string, string>>;
  /**
   * Absolute deadline in epoch milliseconds (`Date.now()` clock); on the
   * server undefined when the client sent none, on the client undefined for a
   * stream called without `timeoutMs`.
   */
  readonly deadline: number | undefined;
  /**
   * On the server: aborts when the deadline passes, the client cancels (a
   * stream), the connection closes or the server shuts down. On the client:
   * the caller's signal (one that never aborts when the caller gave none).
   */
  readonly signal: AbortSignal;
  /** Per-call values; on the server the handler sees the same collection as `context.values`. */
  readonly values: ContextValues;
  /** On the server, the peer that sent the call; undefined on the client. */
  readonly peer: Peer | undefined;
}

/**
 * One unary call as interceptors see it, on either side. It is immutable: an
 * interceptor passes a changed copy on (`next({ ...req, meta: { ...req.meta, k: "v" } })`).
 */
export interface UnaryRequest<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> extends CallRequest {
  /** False: a unary call. */
  readonly stream: false;
  /** The rpc's descriptor. */
  readonly desc: DescMethodUnary<I, O>;
  /** The request message. */
  readonly message: MessageShape<I>;
}

/** The answer to a unary call as interceptors see it. Immutable, like {@link UnaryRequest}. */
export interface UnaryResponse<O extends DescMessage = DescMessage> {
  /** False: a unary call. */
  readonly stream: false;
  /** Response metadata (never `dora-` keys). On the server, what will be sent; on the client, what arrived. */
  readonly meta: Readonly<Record<string, string>>;
  /** The response message. */
  readonly message: MessageShape<O>;
}

/**
 * One streaming call (server-, client- or bidirectional streaming) as
 * interceptors see it. Immutable; an interceptor may pass on a copy whose
 * `message` wraps the original iterable (to watch or change each request).
 * A server-streaming call's iterable yields its one request.
 */
export interface StreamRequest<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> extends CallRequest {
  /** True: a streaming call. */
  readonly stream: true;
  /** The rpc's descriptor. */
  readonly desc: DescMethodStreaming<I, O>;
  /** The request messages: on the client what will be sent, on the server what arrives. */
  readonly message: AsyncIterable<MessageShape<I>>;
}

/**
 * The answer to a streaming call as interceptors see it: the response
 * headers, the response messages, and the trailers. On the client, `next`
 * resolves once the server's first frame (its headers) has arrived, and
 * `trailer` is filled in when the last message has been read.
 */
export interface StreamResponse<O extends DescMessage = DescMessage> {
  /** True: a streaming call. */
  readonly stream: true;
  /** Response headers (never `dora-` keys). On the server, what will be sent with the first frame; on the client, what arrived. */
  readonly meta: Readonly<Record<string, string>>;
  /** The response messages (a client-streaming call's yields its one response). */
  readonly message: AsyncIterable<MessageShape<O>>;
  /** Response trailers (never `dora-` keys): on the server what will be sent with the end of the stream, on the client what arrived with it. */
  readonly trailer: Readonly<Record<string, string>>;
}

/** Any call as interceptors see it. */
export type AnyRequest = UnaryRequest | StreamRequest;
/** Any answer as interceptors see it. */
export type AnyResponse = UnaryResponse | StreamResponse;

/**
 * The next step of a call: the next interceptor or, last, the handler (server)
 * or the wire (client). Rejects with a `DoraError` when the call fails. A
 * unary request gets a unary response, a stream request a stream response.
 */
export type AnyFn = (request: AnyRequest) => Promise<AnyResponse>;

/** The next step of a unary call, typed by its messages. */
export type UnaryFn = <I extends DescMessage, O extends DescMessage>(request: UnaryRequest<I, O>) => Promise<UnaryResponse<O>>;

/**
 * Wraps calls, on a server or a client. Interceptors run in list order, the
 * first being the outermost. One can read and replace the request, read and
 * replace the response, set per-call values, and short-circuit by throwing a
 * `DoraError` (or by answering without calling `next`). Streaming calls pass
 * through the same interceptors with `req.stream === true`.
 *
 * ```ts
 * const logCalls: Interceptor = (next) => async (req) => {
 *   const res = await next(req);
 *   log.info("call", { method: req.method, stream: req.stream });
 *   return res;
 * };
 * ```
 */
export type Interceptor = (next: AnyFn) => AnyFn;

/**
 * Composes interceptors around `last`: the first interceptor is the outermost.
 * With no interceptors, `last` itself is returned (nothing is added to a call).
 * Internal: used by the server and the client.
 */
export function chain(interceptors: readonly Interceptor[], last: AnyFn): AnyFn {
  let next = last;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next);
  return next;
}
