import { LRUCache } from "lru-cache";
import type { Quota, QuotaRepository } from "../domain/quota.js";

/** How long a quota read from a store is reused, in milliseconds. */
export const QUOTA_CACHE_TTL_MS = 60_000;

/**
 * Caches another QuotaRepository's answers in an LRU (`capacity` users, each
 * for `ttlMs`), so the rate limit does not cost a MySQL query per request.
 * A changed quota applies within `ttlMs`.
 */
export class CachedQuotaRepository implements QuotaRepository {
  private readonly cache: LRUCache<string, Quota>;

  constructor(
    private readonly inner: QuotaRepository,
    capacity: number,
    ttlMs: number = QUOTA_CACHE_TTL_MS,
  ) {
    this.cache = new LRUCache<string, Quota>({ max: capacity, ttl: ttlMs });
  }

  /** @inheritdoc A cached quota is answered at once. */
  quotaOf(username: string): Quota | Promise<Quota> {
    const cached = this.cache.get(username);
    if (cached !== undefined) return cached;
    return this.fetch(username);
  }

  /** @inheritdoc The cached quota, if any. */
  knownQuotaOf(username: string): Quota | undefined {
    return this.cache.get(username);
  }

  private async fetch(username: string): Promise<Quota> {
    const quota = await this.inner.quotaOf(username);
    this.cache.set(username, quota);
    return quota;
  }
}
