/**
 * Rate limiting (SPEC §6): a token bucket per user and per kind of request,
 * rate = quota per second, burst = max(floor(quota / 10), 1). The arithmetic
 * lives here, pure; infra/memory keeps bucket states in an LRU and
 * infra/redis runs the same arithmetic in a Lua script.
 */

/** Reads and writes have separate buckets. */
export type RequestKind = "read" | "write";

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
  tryTake(key: string, params: BucketParams): Promise<boolean>;
}

/** Counts failed logins per username and per peer address. */
export interface FailedLoginLimiter {
  /** @throws LimitExceededError "too many failed logins" when either count is over its limit. */
  ensureAllowed(username: string, peerAddress: string): Promise<void>;
  /** Counts one failed login for `username` and for `peerAddress`. */
  recordFailure(username: string, peerAddress: string): Promise<void>;
  /** Forgets the failures of `username` after a successful login. */
  recordSuccess(username: string): Promise<void>;
}
