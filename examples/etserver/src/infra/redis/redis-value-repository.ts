import type { Redis } from "ioredis";
import { ownedKey, type ValueRepository } from "../../domain/kvstore.js";
import { watchChannel } from "./redis-value-feed.js";

/**
 * SET and PUBLISH in one script, so a write and its announcement to watchers
 * are one atomic step: every watcher sees writes in the order Redis applied
 * them, and no write is stored without being announced.
 */
const SET_AND_PUBLISH_LUA = `
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return 1
`;

interface SetAndPublish {
  doraSetAndPublish(key: string, value: string, channel: string): Promise<number>;
}

/**
 * Values in Redis under `<prefix>v:<owned key>`, namespaced per user; durable
 * as Redis is. Each write is published on the key's watch channel (see
 * {@link watchChannel}), which {@link RedisValueFeed} of every instance
 * subscribes to.
 */
export class RedisValueRepository implements ValueRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    // ioredis runs a defined command with EVALSHA, loading the script once per connection.
    if (typeof (redis as unknown as Partial<SetAndPublish>).doraSetAndPublish !== "function") {
      redis.defineCommand("doraSetAndPublish", { numberOfKeys: 1, lua: SET_AND_PUBLISH_LUA });
    }
  }

  /** @inheritdoc */
  async get(username: string, key: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(username, key))) ?? undefined;
  }

  /** @inheritdoc */
  async set(username: string, key: string, value: string): Promise<void> {
    await (this.redis as unknown as SetAndPublish).doraSetAndPublish(this.key(username, key), value, watchChannel(this.keyPrefix, username, key));
  }

  private key(username: string, key: string): string {
    return `${this.keyPrefix}v:${ownedKey(username, key)}`;
  }
}
