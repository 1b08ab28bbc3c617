import { describe, expect, it } from "vitest";
import { LimitExceededError, StoreUnavailableError } from "../domain/errors.js";
import { FlexibleFailedLoginLimiter } from "./failed-login-limiter.js";

const limits = { maxFailuresPerUser: 1, maxFailuresPerPeer: 100, windowSeconds: 60 };
const live = () => new AbortController().signal;

/** Settles on the next turns of the event loop, so a promise that is still pending is seen as such. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

describe("FlexibleFailedLoginLimiter (memory)", () => {
  it("an attempt that would pass the limit if the one in flight failed waits for it: admitted when it succeeds", async () => {
    const limiter = new FlexibleFailedLoginLimiter(limits);
    const first = await limiter.begin("u", "p", live());
    const second = limiter.begin("u", "p", live());
    expect(await isPending(second)).toBe(true);
    first.succeeded();
    (await second).failed();
    await expect(limiter.begin("u", "p", live())).rejects.toThrow(LimitExceededError);
  });

  it("... and refused when it fails", async () => {
    const limiter = new FlexibleFailedLoginLimiter(limits);
    const first = await limiter.begin("u", "p", live());
    const second = limiter.begin("u", "p", live());
    expect(await isPending(second)).toBe(true);
    first.failed();
    await expect(second).rejects.toThrow("too many failed logins");
  });

  it("a waiting attempt gives up when its call is abandoned, and leaves nothing counted", async () => {
    const limiter = new FlexibleFailedLoginLimiter(limits);
    const first = await limiter.begin("u", "p", live());
    const abandon = new AbortController();
    const second = limiter.begin("u", "p", abandon.signal);
    expect(await isPending(second)).toBe(true);
    abandon.abort();
    await expect(second).rejects.toThrow(StoreUnavailableError);
    first.abandoned();
    // Nothing failed: the next attempt is admitted.
    (await limiter.begin("u", "p", live())).succeeded();
  });

  it("settles an attempt once: a second settle changes nothing", async () => {
    const limiter = new FlexibleFailedLoginLimiter({ ...limits, maxFailuresPerUser: 2 });
    const attempt = await limiter.begin("u", "p", live());
    attempt.failed();
    attempt.succeeded();
    attempt.abandoned();
    (await limiter.begin("u", "p", live())).failed();
    await expect(limiter.begin("u", "p", live())).rejects.toThrow(LimitExceededError);
  });

  it("counts a username of any length under a bounded key, apart from others", async () => {
    const limiter = new FlexibleFailedLoginLimiter(limits);
    const long = "x".repeat(1_000_000);
    (await limiter.begin(long, "p", live())).failed();
    await expect(limiter.begin(long, "p", live())).rejects.toThrow(LimitExceededError);
    (await limiter.begin(`${long}y`, "p", live())).succeeded();
  });
});
