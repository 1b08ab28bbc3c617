/**
 * Interceptors: one type for client and server, over one call shape
 * (SPEC §4). Modelled on connect-es: `(next) => async (req) => next(req)`.
 */
import type { DescMessage, DescMethodUnary, MessageShape } from "@bufbuild/protobuf";
import type { ContextValues } from "./context-values.js";
import type { Peer } from "./handler-context.js";

/**
 * One unary call as interceptors see it, on either side. It is immutable: an
 * interceptor passes a changed copy on (`next({ ...req, meta: { ...req.meta, k: "v" } })`).
 */
export interface UnaryRequest<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  /** Fully-qualified method name, e.g. `"/kv.v1.KvService/Login"` (also when the wire carries a bare name). */
  readonly method: string;
  /** The rpc's descriptor. */
  readonly desc: DescMethodUnary<I, O>;
  /** Request metadata: on the client what will be sent, on the server what arrived; never `dora-` keys. */
  readonly meta: Readonly<Record<string, string>>;
  /** Absolute deadline in epoch milliseconds (`Date.now()` clock); on the server undefined when the client sent none. */
  readonly deadline: number | undefined;
  /**
   * On the server: aborts when the deadline passes, the connection closes or
   * the server shuts down. On the client: the caller's signal (one that never
   * aborts when the caller gave none).
   */
  readonly signal: AbortSignal;
  /** The request message. */
  readonly message: MessageShape<I>;
  /** Per-call values; on the server the handler sees the same collection as `context.values`. */
  readonly values: ContextValues;
  /** On the server, the peer that sent the call; undefined on the client. */
  readonly peer: Peer | undefined;
}

/** The answer to a unary call as interceptors see it. Immutable, like {@link UnaryRequest}. */
export interface UnaryResponse<O extends DescMessage = DescMessage> {
  /** Response metadata (never `dora-` keys). On the server, what will be sent; on the client, what arrived. */
  readonly meta: Readonly<Record<string, string>>;
  /** The response message. */
  readonly message: MessageShape<O>;
}

/**
 * The next step of a call: the next interceptor or, last, the handler (server)
 * or the wire (client). Rejects with a `DoraError` when the call fails.
 */
export type UnaryFn = <I extends DescMessage, O extends DescMessage>(request: UnaryRequest<I, O>) => Promise<UnaryResponse<O>>;

/**
 * Wraps calls, on a server or a client. Interceptors run in list order, the
 * first being the outermost. One can read and replace the request, read and
 * replace the response, set per-call values, and short-circuit by throwing a
 * `DoraError` (or by answering without calling `next`).
 *
 * ```ts
 * const logCalls: Interceptor = (next) => async (req) => {
 *   const res = await next(req);
 *   log.info("call", { method: req.method });
 *   return res;
 * };
 * ```
 */
export type Interceptor = (next: UnaryFn) => UnaryFn;

/**
 * Composes interceptors around `last`: the first interceptor is the outermost.
 * With no interceptors, `last` itself is returned (nothing is added to a call).
 * Internal: used by the server and the client.
 */
export function chain(interceptors: readonly Interceptor[], last: UnaryFn): UnaryFn {
  let next = last;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next);
  return next;
}
