import type { Redis } from "ioredis";
import { ownedKey, type ValueRepository } from "../../domain/kvstore.js";

/** The Redis key of `key` owned by `username`: `<prefix>v:<owned key>` (see `ownedKey`). */
export function valueKey(keyPrefix: string, username: string, key: string): string {
  return `${keyPrefix}v:${ownedKey(username, key)}`;
}

/**
 * `set_and_publish(value_key, value)`: SET and PUBLISH in one script, so a
 * write and its announcement to watchers are one atomic step: every watcher
 * sees writes in the order Redis applied them, and no write is stored without
 * being announced. The channel is `watchChannel` of the same owned key,
 * which is the value key's own name: publishing on it builds no 2 KB string
 * in Lua (building one cost a fifth of the admission script's time).
 */
export const SET_AND_PUBLISH_LUA_FUNCTION = `
local function set_and_publish(value_key, value)
  redis.call('SET', value_key, value)
  redis.call('PUBLISH', value_key, value)
end
`;

/** KEYS[1] the value key, ARGV[1] the value. */
const SET_AND_PUBLISH_LUA = `${SET_AND_PUBLISH_LUA_FUNCTION}
set_and_publish(KEYS[1], ARGV[1])
return 1
`;

interface SetAndPublish {
  doraSetAndPublish(key: string, value: string): Promise<number>;
}

/**
 * Values in Redis under `<prefix>v:<owned key>`, namespaced per user; durable
 * as Redis is. Each write is published on the key's watch channel (see
 * `watchChannel`), which `RedisValueFeed` of every instance subscribes
 * to.
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
    return (await this.redis.get(valueKey(this.keyPrefix, username, key))) ?? undefined;
  }

  /** @inheritdoc */
  async set(username: string, key: string, value: string): Promise<void> {
    await (this.redis as unknown as SetAndPublish).doraSetAndPublish(valueKey(this.keyPrefix, username, key), value);
  }
}
