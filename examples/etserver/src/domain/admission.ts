/**
 * Admission (SPEC §6): what a call to a limited method must pass before its
 * operation runs, in this order: its session token (`auth`), then one token
 * of its user's bucket for its kind of request (`limit`). A call that fails
 * the first check spends nothing; one that fails either changes nothing.
 *
 * The checks usually run one after another, each its own store call. A store
 * that can do better implements {@link AdmittingValueStore}: it checks an
 * admission and runs the operation in one atomic step (for Redis, one script
 * and one round trip), with exactly the same outcomes.
 */

import type { BucketParams, RequestKind } from "./ratelimiter.js";
import type { StoreAnswer } from "./store-answer.js";

/** The credentials a call presented: its metadata `username` and `token`. */
export interface Credentials {
  readonly username: string;
  /** The presented token; never empty (an empty token is refused before any store is asked). */
  readonly token: string;
}

/** The credentials of a call and the bucket it spends from: everything its admission checks. */
export interface Admission extends Credentials {
  /** The bucket (reads or writes) one token is taken from once the token is right. */
  readonly kind: RequestKind;
}

/** An admission with its bucket's shape, as a store checks it. */
export interface SizedAdmission extends Admission {
  /** The bucket of the user's quota for `kind` (`bucketParams`). */
  readonly bucket: BucketParams;
}

/**
 * Why an admission was refused: `unauthenticated` (an empty token, no
 * session, an expired one or a wrong one; no bucket token was spent) or
 * `limited` (the bucket was empty).
 */
export type AdmissionRefusal = "unauthenticated" | "limited";

/** The outcome of an operation run only if its admission passed. */
export type Admitted<T> = { readonly admitted: true; readonly value: T } | { readonly admitted: false; readonly refusal: AdmissionRefusal };

/**
 * A value store that checks an admission and runs the operation in one
 * atomic step. Each method first checks the session (a refusal here spends
 * no bucket token and changes nothing), then takes one token of the
 * admission's bucket (a refusal here changes nothing else), and only then
 * runs the operation. Implementation: Redis (one Lua script for the calls of
 * one event-loop turn).
 */
export interface AdmittingValueStore {
  /**
   * When defined, every answer comes or fails within this many milliseconds
   * (the store's own command timeout), so a call whose budget is at least
   * this long need not race it against a timer of its own (`storeCall`).
   */
  readonly answersWithinMs: number | undefined;
  /** If `admission` passes, stores `value` under `key` for its user (announced to the key's watchers, as `ValueRepository.set`). */
  setIfAdmitted(admission: SizedAdmission, key: string, value: string): StoreAnswer<Admitted<void>>;
  /** If `admission` passes, the value of `key` for its user, or undefined when it was never written. */
  getIfAdmitted(admission: SizedAdmission, key: string): StoreAnswer<Admitted<string | undefined>>;
}
