import type { Redis } from "ioredis";
import { ownedKey, type ValueRepository } from "../../domain/kvstore.js";

/** Values in Redis under `<prefix>v:<owned key>`, namespaced per user; durable as Redis is. */
export class RedisValueRepository implements ValueRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  /** @inheritdoc */
  async get(username: string, key: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(username, key))) ?? undefined;
  }

  /** @inheritdoc */
  async set(username: string, key: string, value: string): Promise<void> {
    await this.redis.set(this.key(username, key), value);
  }

  private key(username: string, key: string): string {
    return `${this.keyPrefix}v:${ownedKey(username, key)}`;
  }
}
