import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bucketParams, refillMs, takeToken, type BucketState } from "./ratelimiter.js";

const quota = fc.integer({ min: 1, max: 100_000 });

/** Runs takes at the given non-decreasing times; returns how many were allowed and every state seen. */
function run(q: number, times: number[]): { allowed: number; states: BucketState[] } {
  const params = bucketParams(q);
  let state: BucketState | undefined;
  let allowed = 0;
  const states: BucketState[] = [];
  for (const t of times) {
    const r = takeToken(state, params, t);
    if (r.allowed) allowed++;
    state = r.state;
    states.push(state);
  }
  return { allowed, states };
}

const sortedTimes = fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 300 }).map((a) => a.sort((x, y) => x - y));

describe("token bucket arithmetic", () => {
  it("burst is max(floor(quota / 10), 1) and the rate is the quota", () => {
    expect(bucketParams(1)).toEqual({ ratePerSecond: 1, burst: 1 });
    expect(bucketParams(9)).toEqual({ ratePerSecond: 9, burst: 1 });
    expect(bucketParams(25)).toEqual({ ratePerSecond: 25, burst: 2 });
    expect(bucketParams(100_000)).toEqual({ ratePerSecond: 100_000, burst: 10_000 });
  });

  it("a new bucket allows exactly `burst` takes at one instant", () => {
    fc.assert(
      fc.property(quota, fc.integer({ min: 0, max: 1e12 }), (q, now) => {
        const { burst } = bucketParams(q);
        const { allowed } = run(q, Array.from({ length: burst + 5 }, () => now));
        expect(allowed).toBe(burst);
      }),
    );
  });

  it("never allows more than burst + rate x elapsed", () => {
    fc.assert(
      fc.property(quota, sortedTimes, (q, times) => {
        const { burst, ratePerSecond } = bucketParams(q);
        const first = times[0] ?? 0;
        const last = times[times.length - 1] ?? 0;
        const { allowed } = run(q, times);
        expect(allowed).toBeLessThanOrEqual(burst + Math.floor(((last - first) * ratePerSecond) / 1000 + 1e-9));
      }),
    );
  });

  it("keeps tokens within 0..burst", () => {
    fc.assert(
      fc.property(quota, sortedTimes, (q, times) => {
        const { burst } = bucketParams(q);
        for (const s of run(q, times).states) {
          expect(s.tokens).toBeGreaterThanOrEqual(0);
          expect(s.tokens).toBeLessThanOrEqual(burst);
        }
      }),
    );
  });

  it("an emptied bucket is full again after refillMs", () => {
    fc.assert(
      fc.property(quota, (q) => {
        const params = bucketParams(q);
        const drained = run(q, Array.from({ length: params.burst + 1 }, () => 0)).states.at(-1);
        let state = drained;
        let allowed = 0;
        for (let i = 0; i < params.burst + 1; i++) {
          const r = takeToken(state, params, refillMs(params));
          if (r.allowed) allowed++;
          state = r.state;
        }
        expect(allowed).toBe(params.burst);
      }),
    );
  });

  it("a clock that goes backwards adds no tokens", () => {
    const params = bucketParams(10);
    const drained = takeToken(undefined, params, 5000).state;
    expect(takeToken(drained, params, 1000).allowed).toBe(false);
    expect(takeToken(drained, params, 5100).allowed).toBe(true);
  });
});
