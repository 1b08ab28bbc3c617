import type { HandlerContext } from "@dora/runtime";
import type { CallScope } from "../app/call-scope.js";

/** The deadline and signal of a dora call, as the use cases see them. */
export function scopeOf(context: HandlerContext): CallScope {
  return { deadline: context.deadline, signal: context.signal };
}
