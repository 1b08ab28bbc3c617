/**
 * Rate limiting (SPEC §6): a token bucket per user and per kind of request,
 * rate = quota per second, burst = max(floor(quota / 10), 1). The arithmetic
 * lives here, pure; infra/memory keeps bucket states in an LRU and
 * infra/redis runs the same arithmetic in a Lua script.
 */

import type { StoreAnswer } from "./store-answer.js";

/** Reads and writes have separate buckets. */
export type RequestKind = "read" | "write";

/** The name of a user's bucket for one kind of request, `<kind>:<username>`, the key a {@link RateLimiter} takes. */
export function bucketName(kind: RequestKind, username: string): string {
  return `${kind}:${username}`;
}

/** Shape of one bucket. */
export interface BucketParams {
  /** Tokens added per second (the quota). */
  readonly ratePerSecond: number;
  /** Capacity: the most tokens the bucket holds. */
  readonly burst: number;
}

/** A bucket's state at one moment. */
export interface BucketState {
  /** Tokens available, 0..burst (fractional between refills). */
  readonly tokens: number;
  /** When `tokens` was computed, epoch milliseconds. */
  readonly updatedAtMs: number;
}

/** The bucket for a quota: rate = quota/s, burst = max(floor(quota / 10), 1). */
export function bucketParams(quotaPerSecond: number): BucketParams {
  return { ratePerSecond: quotaPerSecond, burst: Math.max(Math.floor(quotaPerSecond / 10), 1) };
}

/**
 * Refills `state` up to `nowMs` and takes one token if there is one. A new
 * bucket (`state` undefined) starts full. A clock that went backwards adds
 * nothing.
 */
export function takeToken(state: BucketState | undefined, params: BucketParams, nowMs: number): { allowed: boolean; state: BucketState } {
  let tokens = params.burst;
  let updatedAtMs = nowMs;
  if (state !== undefined) {
    const elapsedMs = Math.max(0, nowMs - state.updatedAtMs);
    tokens = Math.min(params.burst, state.tokens + (elapsedMs * params.ratePerSecond) / 1000);
    updatedAtMs = Math.max(nowMs, state.updatedAtMs);
  }
  if (tokens >= 1) return { allowed: true, state: { tokens: tokens - 1, updatedAtMs } };
  return { allowed: false, state: { tokens, updatedAtMs } };
}

/** Milliseconds an idle bucket needs to be full again; after that its state can be forgotten. */
export function refillMs(params: BucketParams): number {
  return Math.ceil((params.burst * 1000) / params.ratePerSecond);
}

/** Token buckets keyed by a string (user and kind). Implementations: memory (one process), Redis (shared). */
export interface RateLimiter {
  /** Takes one token from the bucket `key` with `params`; false when it is empty. */
  tryTake(key: string, params: BucketParams): StoreAnswer<boolean>;
}

/**
 * One login attempt admitted by a {@link FailedLoginLimiter}: it holds one
 * reserved point of its username's and its peer's failure counts until it
 * is settled by exactly one of these calls. None of them rejects.
 */
export interface LoginAttempt {
  /** The password was wrong: the reserved points stay, as one failure in the window. */
  failed(): void;
  /** The password was right: the reserved points are given back. */
  succeeded(): void;
  /** The password could not be checked (store failure, call abandoned): the reserved points are given back. */
  abandoned(): void;
}

/**
 * Failed-login limits per username and per peer address (SPEC §6). The
 * check is atomic with the count: {@link begin} reserves a point before the
 * password is tested, so attempts made at the same moment (pipelined on one
 * connection or spread over several) are limited exactly as if they had come
 * one after another.
 */
export interface FailedLoginLimiter {
  /**
   * Reserves one attempt for `username` from `peerAddress`. While earlier
   * attempts are still being checked and the limit would be reached if they
   * all failed, it waits for them (or for `signal`).
   * @throws LimitExceededError "too many failed logins" when the failures
   *   already counted reach the limit; StoreUnavailableError.
   */
  begin(username: string, peerAddress: string, signal: AbortSignal): Promise<LoginAttempt>;
}
