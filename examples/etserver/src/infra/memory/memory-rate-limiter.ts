import { LRUCache } from "lru-cache";
import { takeToken, type BucketParams, type BucketState, type RateLimiter } from "../../domain/ratelimiter.js";

/** Default number of buckets kept per process (SPEC §6 `rateLimiter.capacity`). */
export const DEFAULT_LIMITER_CAPACITY = 10_000;

/**
 * Token buckets for one process, in an LRU of `capacity` entries. A bucket
 * pushed out of the LRU starts full when it comes back, which is what an idle
 * bucket would have become anyway.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets: LRUCache<string, BucketState>;

  /**
   * @param capacity buckets kept, default 10000.
   * @param now clock in epoch milliseconds.
   */
  constructor(capacity: number = DEFAULT_LIMITER_CAPACITY, private readonly now: () => number = Date.now) {
    this.buckets = new LRUCache<string, BucketState>({ max: capacity });
  }

  /** @inheritdoc */
  tryTake(key: string, params: BucketParams): boolean {
    const { allowed, state } = takeToken(this.buckets.get(key), params, this.now());
    this.buckets.set(key, state);
    return allowed;
  }
}
