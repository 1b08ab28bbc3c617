import type { Redis } from "ioredis";
import { ownedKey, type ValueRepository } from "../../domain/kvstore.js";
import { boundedKey } from "../bounded-key.js";
import { KeyNameMemo } from "../key-name-memo.js";

/** Names of owned keys used recently (a key written or read again is not hashed again). */
const ownedKeyNames = new KeyNameMemo((username, key) => boundedKey(ownedKey(username, key)));

/**
 * The Redis key of `key` owned by `username`: `<prefix>v:<owned key>` (see
 * `ownedKey`) when the owned key has at most 64 characters, else
 * `<prefix>v:h:<SHA-256 of the owned key, base64url>` (`boundedKey`; an
 * owned key starts with a digit, so the forms cannot meet). A long name costs
 * Redis on every write: it is copied into the script, hashed and compared by
 * SET, and carried again by PUBLISH (a 2000-byte name made a write's script
 * 8 µs slower than a 43-byte one), so users' keys of up to 4096 bytes become
 * names of 48 bytes plus the prefix.
 */
export function valueKey(keyPrefix: string, username: string, key: string): string {
  return `${keyPrefix}v:${ownedKeyNames.nameOf(username, key)}`;
}

/**
 * `set_and_publish(value_key, value)`: SET and PUBLISH in one script, so a
 * write and its announcement to watchers are one atomic step: every watcher
 * sees writes in the order Redis applied them, and no write is stored without
 * being announced. The channel is `watchChannel` of the same owned key,
 * which is the value key's own name: publishing on it builds no string in
 * Lua (building a 2 KB one cost a fifth of the admission script's time).
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
