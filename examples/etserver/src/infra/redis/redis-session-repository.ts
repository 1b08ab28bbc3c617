import type { Redis } from "ioredis";
import { systemClock, type Clock } from "../../domain/clock.js";
import type { SessionRepository } from "../../domain/session.js";

/** The Redis key of the session of `username`: `<prefix>s:<username>`. */
export function sessionKey(keyPrefix: string, username: string): string {
  return `${keyPrefix}s:${username}`;
}

/** A stored session, `<expiresAtMs>:<token>`: 1 to 15 decimal digits (a safe integer), a colon, the token. */
const STORED_SESSION = /^(\d{1,15}):/;

/**
 * `session_matches(key, token, now)`: true when the session stored at `key`
 * is `token` and expires after `now` (etserver's clock, epoch ms), with the
 * same reading of the stored value as {@link RedisSessionRepository.tokenOf}
 * and the same rule as `tokenMatches` (an empty token matches nothing).
 *
 * The tokens themselves are never compared: the comparison of two strings
 * takes longer the longer their common prefix, which would let a caller guess
 * a token byte by byte. Their SHA-1 digests are compared instead: a common
 * prefix of the digests tells nothing about the tokens, and finding a token
 * whose digest starts like the stored one's gains nothing towards the token
 * itself. (Lua's strings are interned, so the final `==` is a pointer
 * comparison anyway; the digests make that not matter.)
 */
export const SESSION_MATCHES_LUA_FUNCTION = `
local function session_matches(key, token, now)
  if token == '' then return false end
  local stored = redis.call('GET', key)
  if not stored then return false end
  local expires, current = string.match(stored, '^(%d+):(.*)$')
  if not expires or #expires > 15 or current == '' then return false end
  if tonumber(expires) <= now then return false end
  return redis.sha1hex(current) == redis.sha1hex(token)
end
`;

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
    await this.redis.set(sessionKey(this.keyPrefix, username), `${expiresAtMs}:${token}`, "EX", ttlSeconds);
  }

  /** @inheritdoc */
  async tokenOf(username: string): Promise<string | undefined> {
    const stored = await this.redis.get(sessionKey(this.keyPrefix, username));
    if (stored === null) return undefined;
    // A value not written in this form is no session this store made.
    const expiry = STORED_SESSION.exec(stored);
    if (expiry === null) return undefined;
    return Number(expiry[1]) > this.clock.now() ? stored.slice(expiry[0].length) : undefined;
  }
}
