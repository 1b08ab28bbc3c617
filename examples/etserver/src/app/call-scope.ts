import type { StoreAnswer } from "../domain/store-answer.js";
import { CallOutOfTimeError, DomainError, StoreUnavailableError } from "../domain/errors.js";

/**
 * The part of a call a use case needs: when it must be done, and whether it
 * was abandoned. A dora handler context or server request is one as it is.
 */
export interface CallScope {
  /** Epoch milliseconds by which the caller wants an answer; undefined = no deadline. */
  readonly deadline: number | undefined;
  /** Aborts when the call is abandoned (deadline, connection closed, server shutdown); read only while waiting for a store. */
  readonly signal: AbortSignal;
}

/** Time a store call may take when the call has no deadline, in milliseconds. */
export const DEFAULT_STORE_TIMEOUT_MS = 5000;
/** Part of the remaining time kept back so Unavailable reaches the caller before its deadline. */
const DEADLINE_MARGIN_FRACTION = 0.1;
/** At most this much is kept back, in milliseconds. */
const MAX_DEADLINE_MARGIN_MS = 50;
/**
 * The longest a store call is waited for, in milliseconds: 2^31−1, the
 * runtime's MAX_TIMEOUT_MS and the longest a Node timer can wait (a longer one
 * fires after 1 ms, which would answer Unavailable at once).
 */
export const MAX_STORE_TIMEOUT_MS = 0x7fffffff;
/**
 * A store that a caller's deadline gave less than this many milliseconds and
 * that did not answer in time was not given a fair chance: the call fails with
 * a CallOutOfTimeError (logged at debug) rather than a store failure (warn).
 */
export const FAIR_STORE_BUDGET_MS = 100;

/**
 * Runs one store call raced against the call's deadline and signal (SPEC §6:
 * a store that is down or slow gives Unavailable within the call's deadline,
 * never a hang). Domain errors pass through; any other failure becomes a
 * StoreUnavailableError whose cause holds the details (they are logged, never
 * sent).
 *
 * A store that answers at once (a value, not a promise) has nothing to wait
 * for: its answer is returned as it is, with no timer, race or listener, and
 * the call's signal is not read (a server call creates its signal only when
 * it is read). Between two such answers no event can abandon the call, since
 * they run in one turn of the event loop.
 *
 * A store that fails by itself when it has not answered within `boundMs`
 * (a Redis client's command timeout) is not raced when the budget is at least
 * that long: it ends in time on its own, so the wait costs no timer and no
 * abort listener (creating a call's AbortSignal and listening to it costs
 * more than the rest of the wait). Its failures become StoreUnavailableError
 * as any store's; a call abandoned meanwhile ends when the store answers or
 * fails, within `boundMs`.
 *
 * @param what names the operation in the error, e.g. "session lookup".
 * @param boundMs when given, the store answers or fails within this many milliseconds.
 */
export function storeCall<T>(scope: CallScope, what: string, call: () => StoreAnswer<T>, boundMs?: number): StoreAnswer<T> {
  const deadline = scope.deadline;
  let budget = DEFAULT_STORE_TIMEOUT_MS;
  if (deadline !== undefined) {
    const remaining = deadline - Date.now();
    budget = Math.min(MAX_STORE_TIMEOUT_MS, remaining - Math.min(MAX_DEADLINE_MARGIN_MS, remaining * DEADLINE_MARGIN_FRACTION));
  }
  if (budget <= 0) return Promise.reject(new CallOutOfTimeError(`${what}: no time left before the deadline`));
  let work: StoreAnswer<T>;
  try {
    work = call();
  } catch (error) {
    return Promise.reject(storeError(what, error));
  }
  if (!(work instanceof Promise)) return work;
  if (boundMs !== undefined && boundMs <= budget) return work.catch((error: unknown) => Promise.reject(storeError(what, error)));
  return raceDeadline(scope, what, work, budget);
}

/** `addEventListener` options of the abort listener, made once. */
const ONCE = { once: true } as const;

/**
 * Waits for a store's promise until `budget` ms pass or the call is
 * abandoned. One promise settled by whichever comes first (settling it again
 * does nothing); the timer and the listener are removed as soon as one does.
 * A late failure of `work` is handled here, so it never becomes an unhandled
 * rejection.
 */
function raceDeadline<T>(scope: CallScope, what: string, work: Promise<T>, budget: number): Promise<T> {
  const signal = scope.signal;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new CallOutOfTimeError(`${what}: call abandoned`));
  }
  const short = scope.deadline !== undefined && budget < FAIR_STORE_BUDGET_MS;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CallOutOfTimeError(`${what}: call abandoned`));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      const late = short ? CallOutOfTimeError : StoreUnavailableError;
      reject(new late(`${what}: store did not answer within ${Math.round(budget)} ms`));
    }, budget);
    timer.unref();
    signal.addEventListener("abort", onAbort, ONCE);
    work.then(
      (value) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        reject(storeError(what, error));
      },
    );
  });
}

/** A domain error as it is; any other failure as a StoreUnavailableError holding it as its cause. */
function storeError(what: string, error: unknown): unknown {
  return error instanceof DomainError ? error : new StoreUnavailableError(`${what} failed`, { cause: error });
}
