import type { StoreAnswer } from "./store-answer.js";
import { InvalidRequestError } from "./errors.js";

/** Size limits for keys and values (SPEC §6 `limits`). */
export interface KvLimits {
  /** Longest key in UTF-8 bytes. Default 4096 (the original etclient sends 2000-byte keys). */
  readonly maxKeyBytes: number;
  /** Longest value in UTF-8 bytes. Default 61440 (60 KiB). */
  readonly maxValueBytes: number;
}

/**
 * The limits of SPEC §6: keys of 1–4096 bytes, values up to 60 KiB, so that a
 * read or write of the original etclient's 2000-byte key with the largest
 * value still fits dora v2's 64 KiB frame both ways.
 */
export const DEFAULT_KV_LIMITS: KvLimits = { maxKeyBytes: 4096, maxValueBytes: 61_440 };

/** What is wrong with a key (SPEC §6: 1 to `maxKeyBytes` UTF-8 bytes), or undefined when it is fine. */
export function keyProblem(key: string, limits: KvLimits): string | undefined {
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes === 0) return "key must not be empty";
  if (bytes > limits.maxKeyBytes) return `key is ${bytes} bytes, more than ${limits.maxKeyBytes}`;
  return undefined;
}

/** What is wrong with a value (SPEC §6: at most `maxValueBytes` UTF-8 bytes, empty is allowed), or undefined when it is fine. */
export function valueProblem(value: string, limits: KvLimits): string | undefined {
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > limits.maxValueBytes) return `value is ${bytes} bytes, more than ${limits.maxValueBytes}`;
  return undefined;
}

/** Checks a key: 1 to `maxKeyBytes` UTF-8 bytes. @throws InvalidRequestError */
export function validateKey(key: string, limits: KvLimits): void {
  const problem = keyProblem(key, limits);
  if (problem !== undefined) throw new InvalidRequestError(problem);
}

/** Checks a value: at most `maxValueBytes` UTF-8 bytes (empty is allowed). @throws InvalidRequestError */
export function validateValue(value: string, limits: KvLimits): void {
  const problem = valueProblem(value, limits);
  if (problem !== undefined) throw new InvalidRequestError(problem);
}

/**
 * The storage key of `key` owned by `username`. The username is
 * length-prefixed, so no (username, key) pair can collide with another's:
 * one user can never reach another user's values.
 */
export function ownedKey(username: string, key: string): string {
  return `${Buffer.byteLength(username, "utf8")}:${username}:${key}`;
}

/** Where values live. Implementations: memory, Redis. */
export interface ValueRepository {
  /** The value of `key` owned by `username`, or undefined when it was never written. */
  get(username: string, key: string): StoreAnswer<string | undefined>;
  /** Stores `value` under `key` for `username`, replacing any previous value. */
  set(username: string, key: string, value: string): StoreAnswer<void>;
}
