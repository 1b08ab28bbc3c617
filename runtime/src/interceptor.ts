import type { DescMethodUnary } from "@bufbuild/protobuf";
import type { HandlerContext } from "./context.js";

/**
 * The next step of a server-side call: the next interceptor or, last, the
 * handler. Resolves to the response (a message or its init shape).
 */
export type ServerNext = (request: unknown, context: HandlerContext) => Promise<unknown>;

/**
 * Wraps server-side calls. Interceptors run in list order, the first being
 * the outermost. One can read the method, metadata, peer and deadline from the
 * context, set response metadata, and short-circuit by throwing a `DoraError`
 * (or by returning a response without calling `next`).
 *
 * ```ts
 * const logCalls: ServerInterceptor = (next) => async (req, ctx) => {
 *   const res = await next(req, ctx);
 *   log.info("call", { method: ctx.method });
 *   return res;
 * };
 * ```
 */
export type ServerInterceptor = (next: ServerNext) => ServerNext;

/** A client-side call as interceptors see it. `message` and `meta` may be replaced. */
export interface ClientRequest {
  /** The method name that is sent (fully-qualified, or bare when the client is told to). */
  readonly method: string;
  /** The method's descriptor. */
  readonly desc: DescMethodUnary;
  /** The request message (or its init shape). */
  message: unknown;
  /** Outgoing metadata. */
  meta: Record<string, string>;
  /** Time allowed for the call, in milliseconds. */
  timeoutMs: number;
  /** The caller's abort signal, if any. */
  signal: AbortSignal | undefined;
}

/** The answer to a client-side call. */
export interface ClientResponse {
  /** The response message. */
  message: unknown;
  /** Response metadata (framework keys removed). */
  meta: Record<string, string>;
}

/** The next step of a client-side call: the next interceptor or, last, the wire. */
export type ClientNext = (request: ClientRequest) => Promise<ClientResponse>;

/** Wraps client-side calls; the first in the list is the outermost. */
export type ClientInterceptor = (next: ClientNext) => ClientNext;
