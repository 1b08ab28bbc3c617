import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FixedQuotaRepository, formulaQuota } from "./quota.js";

describe("quota formula", () => {
  it("gives read = min(100000, 3n+3) and write = min(100000, n+3) for numeric usernames", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => {
        expect(formulaQuota(String(n))).toEqual({ read: Math.min(100000, 3 * n + 3), write: Math.min(100000, n + 3) });
      }),
    );
    expect(formulaQuota("1")).toEqual({ read: 6, write: 4 });
    expect(formulaQuota("100000")).toEqual({ read: 100000, write: 100000 });
    expect(formulaQuota("99999999999999999999999")).toEqual({ read: 100000, write: 100000 });
  });

  it("treats a non-numeric username as n = 0", () => {
    for (const name of ["alice", "", "-5", "1.5", "1e3", " 7"]) expect(formulaQuota(name)).toEqual({ read: 3, write: 3 });
  });

  it("rejects a fixed quota below 1", () => {
    expect(() => new FixedQuotaRepository(0)).toThrow(/quota.fixed/);
  });
});
