import type { HandlerContext } from "@dora/runtime";
import type { CallScope } from "../app/call-scope.js";

/**
 * The deadline and signal of a dora call (its handler context or, in an
 * interceptor, its request), as the use cases see them: the call itself, so
 * its signal is created only if a store call has to wait.
 */
export function scopeOf(call: Pick<HandlerContext, "deadline" | "signal">): CallScope {
  return call;
}
