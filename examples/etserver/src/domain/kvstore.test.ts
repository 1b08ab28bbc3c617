import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "./errors.js";
import { DEFAULT_KV_LIMITS, ownedKey, validateKey, validateValue } from "./kvstore.js";
import { tokenMatches } from "./session.js";

describe("key and value rules", () => {
  it("accepts keys of 1..128 bytes and rejects others", () => {
    expect(() => validateKey("a", DEFAULT_KV_LIMITS)).not.toThrow();
    expect(() => validateKey("a".repeat(128), DEFAULT_KV_LIMITS)).not.toThrow();
    expect(() => validateKey("", DEFAULT_KV_LIMITS)).toThrow(InvalidRequestError);
    expect(() => validateKey("a".repeat(129), DEFAULT_KV_LIMITS)).toThrow(/129 bytes/);
    // 43 three-byte characters are 129 bytes although only 43 characters.
    expect(() => validateKey("€".repeat(43), DEFAULT_KV_LIMITS)).toThrow(InvalidRequestError);
  });

  it("accepts values up to maxValueBytes", () => {
    expect(() => validateValue("", DEFAULT_KV_LIMITS)).not.toThrow();
    expect(() => validateValue("x".repeat(65536), DEFAULT_KV_LIMITS)).not.toThrow();
    expect(() => validateValue("x".repeat(65537), DEFAULT_KV_LIMITS)).toThrow(InvalidRequestError);
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
