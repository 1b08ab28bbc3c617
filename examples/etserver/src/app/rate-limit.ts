import { LimitExceededError } from "../domain/errors.js";
import type { QuotaRepository } from "../domain/quota.js";
import { bucketParams, type RateLimiter, type RequestKind } from "../domain/ratelimiter.js";
import { storeCall, type CallScope } from "./call-scope.js";

/** Spends one token of the user's read or write bucket, sized by the user's quota (SPEC §6). */
export class RateLimitUseCase {
  constructor(
    private readonly quotas: QuotaRepository,
    private readonly limiter: RateLimiter,
  ) {}

  /** @throws LimitExceededError "rate limit" when the bucket is empty; StoreUnavailableError. */
  async execute(username: string, kind: RequestKind, scope: CallScope): Promise<void> {
    const quota = await storeCall(scope, "quota lookup", () => this.quotas.quotaOf(username));
    const params = bucketParams(kind === "read" ? quota.read : quota.write);
    const allowed = await storeCall(scope, "rate limiter", () => this.limiter.tryTake(`${kind}:${username}`, params));
    if (!allowed) throw new LimitExceededError("rate limit");
  }
}
