import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract, type RateLimiterStoreAbstract } from "rate-limiter-flexible";
import type { Redis } from "ioredis";
import { LimitExceededError, StoreUnavailableError } from "../domain/errors.js";
import type { FailedLoginLimiter } from "../domain/ratelimiter.js";

/** Limits on failed logins (SPEC §6 `loginLimiter`). */
export interface LoginLimits {
  /** Failures of one username allowed per window. Default 10. */
  readonly maxFailuresPerUser: number;
  /** Failures from one peer address allowed per window. Default 100. */
  readonly maxFailuresPerPeer: number;
  /** Window length in seconds. Default 300. */
  readonly windowSeconds: number;
}

/** SPEC §6 defaults: more than 10 per user or 100 per peer in 5 minutes is refused. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = { maxFailuresPerUser: 10, maxFailuresPerPeer: 100, windowSeconds: 300 };

/**
 * Failed-login counting with rate-limiter-flexible: in memory for one
 * process, or in Redis when several etservers share the counts. Once a
 * username (or a peer) has `max` failures in the window, further login
 * attempts are refused until the window ends.
 */
export class FlexibleFailedLoginLimiter implements FailedLoginLimiter {
  private readonly perUser: RateLimiterAbstract;
  private readonly perPeer: RateLimiterAbstract;

  /** @param redis when given, counts live in Redis under `keyPrefix`; else in process memory. */
  constructor(
    private readonly limits: LoginLimits,
    redis?: { client: Redis; keyPrefix: string },
  ) {
    const make = (points: number, name: string): RateLimiterAbstract =>
      redis === undefined
        ? new RateLimiterMemory({ points, duration: limits.windowSeconds, keyPrefix: name })
        : (new RateLimiterRedis({ storeClient: redis.client, points, duration: limits.windowSeconds, keyPrefix: `${redis.keyPrefix}${name}`, rejectIfRedisNotReady: true }) as RateLimiterStoreAbstract);
    this.perUser = make(limits.maxFailuresPerUser, "login-fail-user");
    this.perPeer = make(limits.maxFailuresPerPeer, "login-fail-peer");
  }

  /** @inheritdoc */
  async ensureAllowed(username: string, peerAddress: string): Promise<void> {
    const [user, peer] = await Promise.all([storeCall(this.perUser.get(username)), storeCall(this.perPeer.get(peerAddress))]);
    if ((user?.consumedPoints ?? 0) >= this.limits.maxFailuresPerUser || (peer?.consumedPoints ?? 0) >= this.limits.maxFailuresPerPeer) {
      throw new LimitExceededError("too many failed logins");
    }
  }

  /** @inheritdoc */
  async recordFailure(username: string, peerAddress: string): Promise<void> {
    await Promise.all([consume(this.perUser, username), consume(this.perPeer, peerAddress)]);
  }

  /** @inheritdoc */
  async recordSuccess(username: string): Promise<void> {
    await storeCall(this.perUser.delete(username));
  }
}

/** Consumes a point; being over the limit is fine here (the next attempt is refused by ensureAllowed). */
async function consume(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    if (error instanceof RateLimiterRes) return;
    throw new StoreUnavailableError("login limiter store failed", { cause: error });
  }
}

async function storeCall<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new StoreUnavailableError("login limiter store failed", { cause: error });
  }
}
