import { timingSafeEqual } from "node:crypto";
import type { StoreAnswer } from "./store-answer.js";

/** Default session lifetime: 24 hours, in seconds. */
export const DEFAULT_SESSION_TTL_SECONDS = 86_400;

/** Sessions: one current token per user. */
export interface SessionRepository {
  /** Makes `token` the session of `username` for `ttlSeconds`, replacing any earlier token. */
  put(username: string, token: string, ttlSeconds: number): StoreAnswer<void>;
  /** The current token of `username`, or undefined when there is none or it expired. */
  tokenOf(username: string): StoreAnswer<string | undefined>;
}

/**
 * True when `presented` equals `stored`, compared in constant time for equal
 * lengths. An empty token never matches anything (SPEC §6).
 */
export function tokenMatches(presented: string, stored: string | undefined): boolean {
  if (presented === "" || stored === undefined || stored === "") return false;
  const a = Buffer.from(presented, "utf8");
  const b = Buffer.from(stored, "utf8");
  // Compare against itself when lengths differ, so the time does not depend on where they differ.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}
