import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "./errors.js";
import { DEFAULT_KV_LIMITS, ownedKey, validateKey, validateValue } from "./kvstore.js";
import { tokenMatches } from "./session.js";

describe("key and value rules", () => {
  it("accepts keys of 1..4096 bytes by default (the original etclient's 2000) and rejects others", () => {
    expect(DEFAULT_KV_LIMITS.maxKeyBytes).toBe(4096);
    expect(() => validateKey("a", DEFAULT_KV_LIMITS)).not.toThrow();
    expect(() => validateKey("c".repeat(2000), DEFAULT_KV_LIMITS)).not.toThrow();
    expect(() => validateKey("a".repeat(4096), DEFAULT_KV_LIMITS)).not.toThrow();
    expect(() => validateKey("", DEFAULT_KV_LIMITS)).toThrow(InvalidRequestError);
    expect(() => validateKey("a".repeat(4097), DEFAULT_KV_LIMITS)).toThrow(/4097 bytes, more than 4096/);
    // 1366 three-byte characters are 4098 bytes although only 1366 characters.
    expect(() => validateKey("€".repeat(1366), DEFAULT_KV_LIMITS)).toThrow(InvalidRequestError);
    expect(() => validateKey("a".repeat(11), { maxKeyBytes: 10, maxValueBytes: 10 })).toThrow(/more than 10/);
  });

  it("accepts values up to 60 KiB by default, and up to maxValueBytes", () => {
    expect(DEFAULT_KV_LIMITS.maxValueBytes).toBe(61_440);
    expect(() => validateValue("", DEFAULT_KV_LIMITS)).not.toThrow();
    expect(() => validateValue("x".repeat(61_440), DEFAULT_KV_LIMITS)).not.toThrow();
    expect(() => validateValue("x".repeat(61_441), DEFAULT_KV_LIMITS)).toThrow(InvalidRequestError);
    expect(() => validateValue("x".repeat(11), { maxKeyBytes: 128, maxValueBytes: 10 })).toThrow(/more than 10/);
  });

  it("never maps two different (user, key) pairs to one storage key", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (u1, k1, u2, k2) => {
        fc.pre(u1 !== u2 || k1 !== k2);
        expect(ownedKey(u1, k1)).not.toBe(ownedKey(u2, k2));
      }),
    );
    expect(ownedKey("1", "2:x")).not.toBe(ownedKey("1:2", "x"));
  });
});

describe("token comparison", () => {
  it("matches only the same non-empty token", () => {
    expect(tokenMatches("abc", "abc")).toBe(true);
    expect(tokenMatches("abc", "abd")).toBe(false);
    expect(tokenMatches("abc", "abcd")).toBe(false);
    expect(tokenMatches("", "")).toBe(false);
    expect(tokenMatches("", undefined)).toBe(false);
    expect(tokenMatches("abc", undefined)).toBe(false);
  });
});
