import type { Redis } from "ioredis";
import type { BucketParams, RateLimiter } from "../../domain/ratelimiter.js";

/**
 * The token bucket of domain/ratelimiter.ts (`takeToken`), the same
 * arithmetic in Lua so that every etserver on one Redis shares one bucket per
 * user: `take_token(key, rate, burst)` answers 1 when it took a token, 0 when
 * the bucket was empty. The clock is Redis's own (`TIME`), so instances with
 * skewed clocks still agree. The state is a hash {tokens, ts}; it expires once
 * an idle bucket would be full again. A Lua function, so that the combined
 * scripts of redis-admitting-value-store.ts run the very same text.
 */
export const TAKE_TOKEN_LUA_FUNCTION = `
local function take_token(key, rate, burst)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = burst
  local ts = now
  if state[1] and state[2] then
    local last = tonumber(state[2])
    tokens = math.min(burst, tonumber(state[1]) + math.max(0, now - last) * rate / 1000)
    ts = math.max(now, last)
  end
  local allowed = 0
  if tokens >= 1 then
    tokens = tokens - 1
    allowed = 1
  end
  redis.call('HSET', key, 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
  redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 1000)
  return allowed
end
`;

/** KEYS[1] the bucket, ARGV[1] rate per second, ARGV[2] burst; answers 1 (taken) or 0 (empty). */
const TAKE_TOKEN_LUA = `${TAKE_TOKEN_LUA_FUNCTION}
return take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
`;

/** The Redis key of the bucket `key` (e.g. `write:<username>`): `<prefix>rl:<key>`. */
export function bucketKey(keyPrefix: string, key: string): string {
  return `${keyPrefix}rl:${key}`;
}

/** Shared token buckets in Redis under `<prefix>rl:<key>`. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    if (typeof (redis as unknown as Record<string, unknown>)["doraTakeToken"] !== "function") {
      redis.defineCommand("doraTakeToken", { numberOfKeys: 1, lua: TAKE_TOKEN_LUA });
    }
  }

  /** @inheritdoc */
  async tryTake(key: string, params: BucketParams): Promise<boolean> {
    const take = (this.redis as unknown as { doraTakeToken(key: string, rate: number, burst: number): Promise<number> }).doraTakeToken;
    const allowed = await take.call(this.redis, bucketKey(this.keyPrefix, key), params.ratePerSecond, params.burst);
    return allowed === 1;
  }
}
