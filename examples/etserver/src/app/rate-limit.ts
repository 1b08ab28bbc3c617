import { LimitExceededError } from "../domain/errors.js";
import type { QuotaRepository } from "../domain/quota.js";
import { bucketName, bucketParams, type RateLimiter, type RequestKind } from "../domain/ratelimiter.js";
import { storeCall, type CallScope } from "./call-scope.js";

/** The message of a refusal by the rate limit (SPEC §6): Unavailable "rate limit". */
export const RATE_LIMIT_MESSAGE = "rate limit";

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
    const allowed = await storeCall(scope, "rate limiter", () => this.limiter.tryTake(bucketName(kind, username), params));
    if (!allowed) throw new LimitExceededError(RATE_LIMIT_MESSAGE);
  }
}
