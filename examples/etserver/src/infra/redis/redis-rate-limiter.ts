import type { Redis } from "ioredis";
import type { BucketParams, RateLimiter } from "../../domain/ratelimiter.js";

/**
 * The token bucket of domain/ratelimiter.ts (`takeToken`), the same
 * arithmetic in Lua so that every etserver on one Redis shares one bucket per
 * user. The clock is Redis's own (`TIME`), so instances with skewed clocks
 * still agree. The state is a hash {tokens, ts}; it expires once an idle
 * bucket would be full again.
 */
const TAKE_TOKEN_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
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
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return allowed
`;

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
    const allowed = await take.call(this.redis, `${this.keyPrefix}rl:${key}`, params.ratePerSecond, params.burst);
    return allowed === 1;
  }
}
