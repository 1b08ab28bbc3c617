import type { Redis } from "ioredis";
import { systemClock, type Clock } from "../../domain/clock.js";
import type { SessionRepository } from "../../domain/session.js";

/**
 * Sessions in Redis under `<prefix>s:<username>`, shared by every etserver on
 * that Redis. The value is `<expiresAtMs>:<token>`: the expiry is decided by
 * etserver's clock, like in the memory store, and `SET … EX` lets Redis drop
 * the key at about the same time.
 */
export class RedisSessionRepository implements SessionRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly clock: Clock = systemClock,
  ) {}

  /** @inheritdoc */
  async put(username: string, token: string, ttlSeconds: number): Promise<void> {
    const expiresAtMs = this.clock.now() + ttlSeconds * 1000;
    await this.redis.set(this.key(username), `${expiresAtMs}:${token}`, "EX", ttlSeconds);
  }

  /** @inheritdoc */
  async tokenOf(username: string): Promise<string | undefined> {
    const stored = await this.redis.get(this.key(username));
    if (stored === null) return undefined;
    const colon = stored.indexOf(":");
    const expiresAtMs = Number(stored.slice(0, colon));
    // A value not written in this form is no session this store made.
    if (colon <= 0 || !Number.isSafeInteger(expiresAtMs)) return undefined;
    return expiresAtMs > this.clock.now() ? stored.slice(colon + 1) : undefined;
  }

  private key(username: string): string {
    return `${this.keyPrefix}s:${username}`;
  }
}
