import { timingSafeEqual } from "node:crypto";
import type { WorkloadParams } from "./workload.js";

/**
 * The work a competitor's server does per call, equivalent to what
 * etserver's memory store does for ReadSecureMessage: look up the caller's
 * session, compare its token in constant time, then look up the value under
 * the caller's own map of keys. Used by every server of the comparison except
 * etserver itself, so they all do the same work.
 */
export class BenchKvStore {
  private readonly sessions = new Map<string, string>();
  private readonly values = new Map<string, Map<string, string>>();

  /** A store holding one session (`username` → `token`) and one value (the letter repeated `sizeBytes` times, under that key). */
  constructor(params: WorkloadParams) {
    const text = params.letter.repeat(params.sizeBytes);
    this.sessions.set(params.username, params.token);
    this.values.set(params.username, new Map([[text, text]]));
  }

  /** True when `token` is the current session token of `username` (an empty or missing token never matches). */
  authenticate(username: string | undefined, token: string | undefined): boolean {
    if (username === undefined || token === undefined || token === "") return false;
    const stored = this.sessions.get(username);
    if (stored === undefined) return false;
    const a = Buffer.from(token, "utf8");
    const b = Buffer.from(stored, "utf8");
    if (a.length !== b.length) {
      timingSafeEqual(b, b);
      return false;
    }
    return timingSafeEqual(a, b);
  }

  /** The value of `username`'s `key`, or undefined. */
  read(username: string, key: string): string | undefined {
    return this.values.get(username)?.get(key);
  }
}
