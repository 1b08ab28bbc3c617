import { Code, createContextKey, DoraError, type ContextValues } from "@dora/runtime";

/**
 * The authenticated caller of a call: the username the `auth` interceptor
 * checked the session token of. Set once by `auth`, read by `limit` and the
 * handler through {@link callerOf}; never taken again from raw metadata.
 */
export const CALLER = createContextKey<string | undefined>(undefined, { description: "etserver caller" });

/**
 * The authenticated caller of a call that passed `auth`.
 * @throws DoraError Internal when `auth` did not run first (a wiring mistake, not a client's).
 */
export function callerOf(values: ContextValues): string {
  const caller = values.get(CALLER);
  if (caller === undefined) throw new DoraError(Code.Internal, "no authenticated caller");
  return caller;
}
