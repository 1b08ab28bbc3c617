import { describe, expect, it } from "vitest";
import { formatGoDuration } from "./go-duration.js";

// Expected strings are what Go 1.22's time.Duration(n).String() prints.
describe("formatGoDuration", () => {
  it.each([
    [0, "0s"],
    [1, "1ns"],
    [999, "999ns"],
    [1_000, "1µs"],
    [1_100, "1.1µs"],
    [1_001, "1.001µs"],
    [433_660, "433.66µs"],
    [152_847, "152.847µs"],
    [999_999, "999.999µs"],
    [1_000_000, "1ms"],
    [45_295_218, "45.295218ms"],
    [999_999_999, "999.999999ms"],
    [1_000_000_000, "1s"],
    [4_345_747_431, "4.345747431s"],
    [1_500_000_000, "1.5s"],
    [59_999_999_999, "59.999999999s"],
    [60_000_000_000, "1m0s"],
    [62_500_000_000, "1m2.5s"],
    [3_599_000_000_000, "59m59s"],
    [3_600_000_000_000, "1h0m0s"],
    [7_384_000_000_005, "2h3m4.000000005s"],
    [-1_500, "-1.5µs"],
    [-62_500_000_000, "-1m2.5s"],
  ])("formats %d ns as %s", (ns, expected) => {
    expect(formatGoDuration(ns)).toBe(expected);
  });

  it("accepts bigint beyond 2^53 ns (Go's max duration)", () => {
    expect(formatGoDuration(9_223_372_036_854_775_807n)).toBe("2562047h47m16.854775807s");
  });

  it("truncates fractional nanoseconds toward zero", () => {
    expect(formatGoDuration(1_234.9)).toBe("1.234µs");
  });
});
