/**
 * Method routing of a server (SPEC §3.3): fully-qualified names, and bare
 * names of dora v2 Go clients when exactly one service defines them.
 * Internal module.
 */
import type { DescMessage, DescMethod, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import { DoraError } from "./dora-error.js";
import type { HandlerContext } from "./handler-context.js";

/** A handler as the server calls it: the implementation's method, bound to the implementation. */
export type Handler = (request: MessageShape<DescMessage>, context: HandlerContext) => Promise<MessageInitShape<DescMessage>>;

/** A registered rpc. */
export interface RegisteredMethod {
  /** Fully-qualified name, `/<package>.<Service>/<Method>`. */
  readonly name: string;
  readonly desc: DescMethodUnary;
  readonly handler: Handler;
}

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
   * Registers every rpc of `service`: `implementation[method.localName]` is
   * called with the request and its context; a method the implementation
   * lacks answers `Unimplemented`. Throws for streaming rpcs (not in dora v2).
   * Registering a service again replaces its methods.
   */
  register(service: DescService, implementation: object): void {
    for (const desc of service.methods) {
      if (!isUnary(desc)) {
        throw new Error(`dora: ${service.typeName}.${desc.name} is a ${desc.methodKind} rpc; only unary rpcs are supported`);
      }
      const name = `/${service.typeName}/${desc.name}`;
      const fn: unknown = (implementation as Record<string, unknown>)[desc.localName];
      const handler: Handler =
        typeof fn === "function"
          ? (request, context) => (fn as Handler).call(implementation, request, context)
          : () => Promise.reject(new DoraError(Code.Unimplemented, `method ${name} is not implemented`));
      const found: Found = { kind: "found", method: { name, desc, handler } };
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

function isUnary(desc: DescMethod): desc is DescMethodUnary {
  return desc.methodKind === "unary";
}
