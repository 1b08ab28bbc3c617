/**
 * Method routing of a server (SPEC §3.3): fully-qualified names, and bare
 * names of dora v2 Go clients when exactly one service defines them.
 * Internal module.
 */
import type { DescMessage, DescMethod, DescMethodBiDiStreaming, DescMethodClientStreaming, DescMethodServerStreaming, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import { DoraError } from "./dora-error.js";
import type { HandlerContext } from "./handler-context.js";

type Message = MessageShape<DescMessage>;
type MessageInit = MessageInitShape<DescMessage>;

/** A unary handler as the server calls it: the implementation's method, bound to the implementation. */
export type Handler = (request: Message, context: HandlerContext) => Promise<MessageInit>;
/** A server-streaming handler: one request, the responses as an async iterable. */
export type ServerStreamingHandler = (request: Message, context: HandlerContext) => AsyncIterable<MessageInit>;
/** A client-streaming handler: the requests as an async iterable, one response. */
export type ClientStreamingHandler = (requests: AsyncIterable<Message>, context: HandlerContext) => Promise<MessageInit>;
/** A bidirectional-streaming handler: requests in, responses out, both async iterables. */
export type BiDiStreamingHandler = (requests: AsyncIterable<Message>, context: HandlerContext) => AsyncIterable<MessageInit>;

interface Registered<K extends DescMethod["methodKind"], D extends DescMethod, H> {
  readonly kind: K;
  /** Fully-qualified name, `/<package>.<Service>/<Method>`. */
  readonly name: string;
  readonly desc: D;
  readonly handler: H;
}

/** A registered unary rpc. */
export type UnaryMethod = Registered<"unary", DescMethodUnary, Handler>;
/** A registered streaming rpc, by kind. */
export type StreamMethod =
  | Registered<"server_streaming", DescMethodServerStreaming, ServerStreamingHandler>
  | Registered<"client_streaming", DescMethodClientStreaming, ClientStreamingHandler>
  | Registered<"bidi_streaming", DescMethodBiDiStreaming, BiDiStreamingHandler>;
/** A registered rpc. */
export type RegisteredMethod = UnaryMethod | StreamMethod;

/** The outcome of a lookup. Each is a shared object: a lookup allocates nothing. */
export type Route =
  | { readonly kind: "found"; readonly method: RegisteredMethod }
  | { readonly kind: "unknown" }
  /** A bare name that two or more registered services define. */
  | { readonly kind: "ambiguous" };

type Found = Extract<Route, { kind: "found" }>;
const UNKNOWN: Route = Object.freeze({ kind: "unknown" });
const AMBIGUOUS: Route = Object.freeze({ kind: "ambiguous" });

/** The methods of a server by name. */
export class MethodRouter {
  private readonly byName = new Map<string, Found>();
  private readonly byBareName = new Map<string, Found | typeof AMBIGUOUS>();

  /**
   * Registers every rpc of `service`, unary and streaming:
   * `implementation[method.localName]` is called with the request (or the
   * requests) and its context; a method the implementation lacks answers
   * `Unimplemented`. Registering a service again replaces its methods.
   */
  register(service: DescService, implementation: object): void {
    for (const desc of service.methods) {
      const name = `/${service.typeName}/${desc.name}`;
      const fn: unknown = (implementation as Record<string, unknown>)[desc.localName];
      // The handler's shape follows the rpc's kind; the router only binds it.
      const handler =
        typeof fn === "function"
          ? (request: unknown, context: HandlerContext): unknown => (fn as (r: unknown, c: HandlerContext) => unknown).call(implementation, request, context)
          : unimplemented(name, desc.methodKind);
      const method = { kind: desc.methodKind, name, desc, handler } as RegisteredMethod;
      const found: Found = { kind: "found", method };
      this.byName.set(name, found);
      const bare = this.byBareName.get(desc.name);
      this.byBareName.set(desc.name, bare === undefined || (bare.kind === "found" && bare.method.name === name) ? found : AMBIGUOUS);
    }
  }

  /** Finds a method by fully-qualified or bare name. */
  lookup(name: string): Route {
    const found = this.byName.get(name);
    if (found !== undefined) return found;
    if (name.charCodeAt(0) === 47 /* "/" */) return UNKNOWN;
    return this.byBareName.get(name) ?? UNKNOWN;
  }
}

/** The handler of a method the implementation lacks: it answers `Unimplemented`, in the rpc's shape. */
function unimplemented(name: string, kind: DescMethod["methodKind"]): (request: unknown, context: HandlerContext) => unknown {
  const error = (): DoraError => new DoraError(Code.Unimplemented, `method ${name} is not implemented`);
  if (kind === "unary" || kind === "client_streaming") return () => Promise.reject(error());
  return () => {
    throw error();
  };
}
