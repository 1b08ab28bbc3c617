import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyNameMemo } from "./key-name-memo.js";

/** A naming function that counts its calls. */
function counted() {
  const calls: [string, string][] = [];
  const name = (username: string, key: string) => {
    calls.push([username, key]);
    return `${username.length}:${username}:${key}`;
  };
  return { name, calls };
}

describe("KeyNameMemo: store names of recent (username, key) pairs", () => {
  it("answers what the naming function answers, for any pairs in any order (property)", () => {
    const pair = fc.tuple(fc.constantFrom("1", "2", "100000", "ü"), fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("k".repeat(2000), `${"k".repeat(1999)}j`)));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 80 }), fc.constantFrom(1, 2, 8, 1024), (pairs, slots) => {
        const { name } = counted();
        const memo = new KeyNameMemo(name, slots);
        for (const [username, key] of pairs) expect(memo.nameOf(username, key)).toBe(name(username, key));
      }),
    );
  });

  it("names a pair used again from its slot, without calling the function", () => {
    const { name, calls } = counted();
    const memo = new KeyNameMemo(name);
    const key = "k".repeat(2000);
    memo.nameOf("100000", key);
    // An equal key in a different string object, as each request decodes its own.
    const again = memo.nameOf("100000", new TextDecoder().decode(Buffer.from(key)));
    expect(again).toBe(`6:100000:${key}`);
    expect(calls).toHaveLength(1);
  });

  it("gives two keys that share a slot each their own name (here one slot for all)", () => {
    const { name, calls } = counted();
    const memo = new KeyNameMemo(name, 1);
    const a = "x".repeat(2000);
    const b = `${"x".repeat(999)}y${"x".repeat(1000)}`;
    expect(memo.nameOf("1", a)).toBe(`1:1:${a}`);
    expect(memo.nameOf("1", b)).toBe(`1:1:${b}`);
    expect(memo.nameOf("1", a)).toBe(`1:1:${a}`);
    expect(calls).toHaveLength(3);
  });

  it("keeps users apart: the same key of another user is another pair", () => {
    const { name } = counted();
    const memo = new KeyNameMemo(name, 1);
    expect(memo.nameOf("1", "k")).toBe("1:1:k");
    expect(memo.nameOf("2", "k")).toBe("1:2:k");
  });

  it("holds at most `slots` pairs, however many distinct keys a peer sends", () => {
    const memo = new KeyNameMemo(counted().name, 64);
    for (let i = 0; i < 10_000; i++) memo.nameOf("1", `key-${i}-${"k".repeat(100)}`);
    expect(memo.size).toBeLessThanOrEqual(64);
    expect(memo.size).toBeGreaterThan(32);
  });

  it("refuses a table size that is not a power of two", () => {
    expect(() => new KeyNameMemo(counted().name, 1000)).toThrow("slots must be a power of two, got 1000");
    expect(() => new KeyNameMemo(counted().name, 0)).toThrow(RangeError);
  });
});
