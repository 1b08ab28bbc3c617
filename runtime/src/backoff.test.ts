import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff (gRPC-style: 1 s ×1.6 ±20 %, capped)", () => {
  it("grows ×1.6 from the initial delay up to the cap, without jitter at the midpoint", () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 120_000, random: () => 0.5 });
    const delays = Array.from({ length: 12 }, () => Math.round(b.next()));
    expect(delays).toEqual([1000, 1600, 2560, 4096, 6554, 10486, 16777, 26844, 42950, 68719, 109951, 120000]);
    expect(b.next()).toBe(120_000);
  });

  it("spreads each delay by ±20 %", () => {
    expect(new Backoff({ initialMs: 1000, maxMs: 120_000, random: () => 0 }).next()).toBe(800);
    expect(new Backoff({ initialMs: 1000, maxMs: 120_000, random: () => 0.999999 }).next()).toBeCloseTo(1200, 3);
  });

  it("starts over from the initial delay after a reset", () => {
    const b = new Backoff({ initialMs: 50, maxMs: 1000, random: () => 0.5 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(50);
  });
});
