import { hash } from "node:crypto";

/** Names longer than this (UTF-16 units) are stored under their SHA-256 (see {@link boundedKey}). */
export const MAX_PLAIN_KEY_LENGTH = 64;

/**
 * A store key for `name` whose size no caller can choose: `plainPrefix` +
 * `name` when the name has at most {@link MAX_PLAIN_KEY_LENGTH} characters,
 * else `h:<SHA-256 of the name, base64url>` (43 characters). A plain form
 * never starts with `h:` (its prefix or the name's own first characters see
 * to that), so the two forms cannot meet. Long names cost a store on every
 * command that carries them, and Redis's own guide advises hashing them.
 */
export function boundedKey(name: string, plainPrefix = ""): string {
  return name.length <= MAX_PLAIN_KEY_LENGTH ? plainPrefix + name : `h:${hash("sha256", name, "base64url")}`;
}
