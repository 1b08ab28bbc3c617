import { Code, createContextKey, DoraError, type ContextValues } from "@dora/runtime";
import type { Actor } from "../app/admission.js";
import type { Admission, Credentials } from "../domain/admission.js";

/**
 * The caller of a call, set by `auth` and completed by `limit`:
 * - a username: `auth` checked its session and `limit` spent its token;
 * - {@link Credentials}, then an {@link Admission}: the checks are deferred to
 *   the operation, which runs them (with the store's operation in one step
 *   when the store can), so the username is not yet a checked caller.
 * Read through {@link callerOf} or {@link actorOf}; never taken again from raw metadata.
 */
export const CALLER = createContextKey<string | Credentials | Admission | undefined>(undefined, { description: "etserver caller" });

/**
 * The authenticated caller of a call that passed `auth` (and `limit`).
 * @throws DoraError Internal when `auth` did not run first, or deferred the
 *   checks of this call to its operation (a wiring mistake, not a client's):
 *   a method that reads its caller here never runs unchecked.
 */
export function callerOf(values: ContextValues): string {
  const caller = values.get(CALLER);
  if (typeof caller !== "string") throw noCaller();
  return caller;
}

/**
 * Whom a read or write acts for: a checked username, or the complete
 * admission (credentials and bucket) its use case must run.
 * @throws DoraError Internal when `auth` or `limit` did not run (a wiring mistake).
 */
export function actorOf(values: ContextValues): Actor {
  const caller = values.get(CALLER);
  if (caller === undefined || (typeof caller !== "string" && !("kind" in caller))) throw noCaller();
  return caller;
}

/** The error of a call whose caller `auth` and `limit` did not set as its method needs: Internal (a wiring mistake, not a client's). */
export function noCaller(): DoraError {
  return new DoraError(Code.Internal, "no authenticated caller");
}
