import { DomainError, StoreUnavailableError } from "../domain/errors.js";

/** The part of a call a use case needs: when it must be done, and whether it was abandoned. */
export interface CallScope {
  /** Epoch milliseconds by which the caller wants an answer; undefined = no deadline. */
  readonly deadline: number | undefined;
  /** Aborts when the call is abandoned (deadline, connection closed, server shutdown). */
  readonly signal: AbortSignal;
}

/** Time a store call may take when the call has no deadline, in milliseconds. */
export const DEFAULT_STORE_TIMEOUT_MS = 5000;
/** Part of the remaining time kept back so Unavailable reaches the caller before its deadline. */
const DEADLINE_MARGIN_FRACTION = 0.1;
/** At most this much is kept back, in milliseconds. */
const MAX_DEADLINE_MARGIN_MS = 50;

/**
 * Runs one store call raced against the call's deadline and signal (SPEC §6:
 * a store that is down or slow gives Unavailable within the call's deadline,
 * never a hang). Domain errors pass through; any other failure becomes a
 * StoreUnavailableError whose cause holds the details (they are logged, never
 * sent).
 *
 * @param what names the operation in the error, e.g. "session lookup".
 */
export async function storeCall<T>(scope: CallScope, what: string, call: () => Promise<T>): Promise<T> {
  const remaining = scope.deadline === undefined ? DEFAULT_STORE_TIMEOUT_MS : scope.deadline - Date.now();
  const budget = scope.deadline === undefined ? remaining : remaining - Math.min(MAX_DEADLINE_MARGIN_MS, remaining * DEADLINE_MARGIN_FRACTION);
  if (scope.signal.aborted) throw new StoreUnavailableError(`${what}: call abandoned`);
  if (budget <= 0) throw new StoreUnavailableError(`${what}: no time left before the deadline`);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`${what}: store did not answer within ${Math.round(budget)} ms`)), budget);
    timer.unref();
    onAbort = () => reject(new StoreUnavailableError(`${what}: call abandoned`));
    scope.signal.addEventListener("abort", onAbort, { once: true });
  });
  const work = call();
  // A late failure after the race is decided must not become an unhandled rejection.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, limit]);
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new StoreUnavailableError(`${what} failed`, { cause: error });
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) scope.signal.removeEventListener("abort", onAbort);
  }
}
