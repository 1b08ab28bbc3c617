import type { Redis } from "ioredis";
import type { SessionRepository } from "../../domain/session.js";

/** Sessions in Redis under `<prefix>s:<username>`, expiring with `SET … EX`; shared by every etserver on that Redis. */
export class RedisSessionRepository implements SessionRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  /** @inheritdoc */
  async put(username: string, token: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.key(username), token, "EX", ttlSeconds);
  }

  /** @inheritdoc */
  async tokenOf(username: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(username))) ?? undefined;
  }

  private key(username: string): string {
    return `${this.keyPrefix}s:${username}`;
  }
}
