import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { SizedAdmission } from "../../domain/admission.js";
import { bucketParams } from "../../domain/ratelimiter.js";
import { ManualClock } from "../../test-helpers/manual-clock.js";
import { deleteTestKeys, SHARED_REDIS_URL, testNamespace } from "../../test-helpers/stores.js";
import { MAX_ADMISSIONS_PER_SCRIPT, RedisAdmittingValueStore } from "./redis-admitting-value-store.js";
import { waitForRedis } from "./redis-connection.js";
import { bucketKey, RedisRateLimiter } from "./redis-rate-limiter.js";
import { RedisSessionRepository, sessionKey } from "./redis-session-repository.js";
import { watchChannel } from "./redis-value-feed.js";
import { RedisValueRepository, valueKey } from "./redis-value-repository.js";

const ns = testNamespace();
const prefix = ns.keyPrefix;
let redis: Redis;
let subscriber: Redis;
const clock = new ManualClock();
let sessions: RedisSessionRepository;
let values: RedisValueRepository;
let store: RedisAdmittingValueStore;
let user = 0;
let username = "";

beforeAll(() => {
  redis = new Redis(SHARED_REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  subscriber = new Redis(SHARED_REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  sessions = new RedisSessionRepository(redis, prefix, clock);
  values = new RedisValueRepository(redis, prefix);
  store = new RedisAdmittingValueStore(redis, prefix, clock);
});
afterAll(async () => {
  redis?.disconnect();
  subscriber?.disconnect();
  await deleteTestKeys(prefix);
});
beforeEach(() => {
  user++;
  username = `u${user}`;
});

/** The admission of `username` with `token`, by default to a bucket of 10 requests/s (burst 1). */
function admission(token: string, kind: "read" | "write" = "write", quota = 10): SizedAdmission {
  return { username, token, kind, bucket: bucketParams(quota) };
}

/** Whether the user's bucket of `kind` was ever touched (a new bucket has no key). */
async function bucketTouched(kind: "read" | "write" = "write"): Promise<boolean> {
  return (await redis.exists(bucketKey(prefix, `${kind}:${username}`))) === 1;
}

/** Empties the user's bucket until well after any test ends: no tokens, last refilled an hour ahead of Redis's clock. */
async function emptyBucket(kind: "read" | "write" = "write"): Promise<void> {
  const [seconds] = await redis.time();
  await redis.hset(bucketKey(prefix, `${kind}:${username}`), "tokens", "0", "ts", String((Number(seconds) + 3600) * 1000));
}

describe("RedisAdmittingValueStore: the admission and the operation in one script", () => {
  it("stores and reads a 4096-byte key under the SHA-256 name the separate value store uses", async () => {
    await sessions.put(username, "tok", 60);
    const key = "é".repeat(2048);
    expect(await store.setIfAdmitted(admission("tok"), key, "long")).toEqual({ admitted: true, value: undefined });
    const name = valueKey(prefix, username, key);
    expect(name.length).toBe(prefix.length + "v:h:".length + 43);
    expect(await redis.get(name)).toBe("long");
    expect(await values.get(username, key)).toBe("long");
    expect(await store.getIfAdmitted(admission("tok", "read", 100), key)).toEqual({ admitted: true, value: "long" });
  });

  it("writes and announces the value when the session and the bucket allow it, where the separate stores see it", async () => {
    await sessions.put(username, "tok", 60);
    const channel = watchChannel(prefix, username, "k");
    const announced = new Promise<string>((resolve) => subscriber.once("message", (_channel: string, message: string) => resolve(message)));
    await subscriber.subscribe(channel);
    try {
      expect(await store.setIfAdmitted(admission("tok"), "k", "v1")).toEqual({ admitted: true, value: undefined });
      expect(await announced).toBe("v1");
    } finally {
      await subscriber.unsubscribe(channel);
    }
    expect(await values.get(username, "k")).toBe("v1");
    expect(await redis.get(valueKey(prefix, username, "k"))).toBe("v1");
    expect(await bucketTouched()).toBe(true);
    expect(await store.getIfAdmitted(admission("tok", "read", 100), "k")).toEqual({ admitted: true, value: "v1" });
    expect(await store.getIfAdmitted(admission("tok", "read", 100), "missing")).toEqual({ admitted: true, value: undefined });
  });

  it("refuses a wrong token, no session, an expired session and an empty token as unauthenticated, spending no token and writing nothing", async () => {
    const refused = { admitted: false, refusal: "unauthenticated" };
    expect(await store.setIfAdmitted(admission("tok"), "k", "v")).toEqual(refused);
    await sessions.put(username, "tok", 60);
    expect(await store.setIfAdmitted(admission("tOk"), "k", "v")).toEqual(refused);
    expect(await store.setIfAdmitted(admission("tok "), "k", "v")).toEqual(refused);
    expect(await store.setIfAdmitted(admission(""), "k", "v")).toEqual(refused);
    expect(await store.getIfAdmitted(admission("wrong", "read"), "k")).toEqual(refused);
    clock.advance(60_000);
    expect(await store.setIfAdmitted(admission("tok"), "k", "v")).toEqual(refused);
    expect(await store.getIfAdmitted(admission("tok", "read"), "k")).toEqual(refused);
    expect(await bucketTouched("write")).toBe(false);
    expect(await bucketTouched("read")).toBe(false);
    expect(await redis.exists(valueKey(prefix, username, "k"))).toBe(0);
  });

  it("refuses an empty bucket as limited and writes nothing", async () => {
    await sessions.put(username, "tok", 60);
    await emptyBucket("write");
    await emptyBucket("read");
    expect(await store.setIfAdmitted(admission("tok"), "k", "v")).toEqual({ admitted: false, refusal: "limited" });
    expect(await store.getIfAdmitted(admission("tok", "read"), "k")).toEqual({ admitted: false, refusal: "limited" });
    expect(await redis.exists(valueKey(prefix, username, "k"))).toBe(0);
  });

  it("spends from the buckets RedisRateLimiter uses, so both paths share one bucket per user and kind", async () => {
    await sessions.put(username, "tok", 60);
    const limiter = new RedisRateLimiter(redis, prefix);
    expect(await store.setIfAdmitted(admission("tok", "write", 50), "k", "v")).toEqual({ admitted: true, value: undefined });
    // A new bucket starts full (burst 5) and the script took one: the stored state, before any refill.
    expect(await redis.hget(bucketKey(prefix, `write:${username}`), "tokens")).toBe("4");
    await emptyBucket();
    expect(await limiter.tryTake(`write:${username}`, bucketParams(50))).toBe(false);
    expect(await store.setIfAdmitted(admission("tok", "write", 50), "k", "w")).toEqual({ admitted: false, refusal: "limited" });
    expect(await values.get(username, "k")).toBe("v");
  });

  it("reads a stored session exactly as RedisSessionRepository.tokenOf does", async () => {
    const now = clock.now();
    const stored = [
      `${now + 1000}:tok`,
      `${now}:tok`,
      `${now - 1}:tok`,
      `${now + 1000}:`,
      `${now + 1000}:tok:with:colons`,
      `:tok`,
      `x${now + 1000}:tok`,
      `${now + 1000}`,
      `9999999999999999:tok`,
      `0x${(now + 1000).toString(16)}:tok`,
      `${now + 1000}.5:tok`,
      `${now + 1000}:tok\nline`,
    ];
    for (const value of stored) {
      user++;
      username = `u${user}`;
      await redis.set(sessionKey(prefix, username), value);
      const token = await sessions.tokenOf(username);
      const candidates = [token ?? "tok", "tok", "tok:with:colons", "tok\nline"];
      for (const presented of candidates) {
        const expected = token !== undefined && token !== "" && token === presented;
        const outcome = await store.getIfAdmitted(admission(presented, "read", 100_000), "k");
        expect({ value, presented, admitted: outcome.admitted }).toEqual({ value, presented, admitted: expected });
      }
    }
  });

  it("checks the admissions of one event-loop turn in one script call, each with the outcome it has alone, in the order they were made", async () => {
    const writer = username;
    await sessions.put(writer, "tok", 60);
    const limitedUser = `${writer}-limited`;
    await sessions.put(limitedUser, "tok", 60);
    await redis.hset(bucketKey(prefix, `write:${limitedUser}`), "tokens", "0", "ts", String((Number((await redis.time())[0]) + 3600) * 1000));
    await values.set(writer, "old", "before");
    const as = (name: string, token: string, kind: "read" | "write", quota = 1000): SizedAdmission => ({ username: name, token, kind, bucket: bucketParams(quota) });
    const sent = vi.spyOn(redis, "sendCommand");
    try {
      const outcomes = await Promise.all([
        store.setIfAdmitted(as(writer, "tok", "write"), "k", "first"),
        store.getIfAdmitted(as(writer, "tok", "read"), "k"),
        store.setIfAdmitted(as(writer, "wrong", "write"), "k", "never"),
        store.getIfAdmitted(as(writer, "tok", "read"), "old"),
        store.setIfAdmitted(as(limitedUser, "tok", "write"), "k", "never"),
        store.getIfAdmitted(as(writer, "tok", "read"), "missing"),
        store.setIfAdmitted(as(writer, "tok", "write"), "k", "second"),
        store.getIfAdmitted(as(`${writer}-nobody`, "tok", "read"), "k"),
      ]);
      expect(outcomes).toEqual([
        { admitted: true, value: undefined },
        { admitted: true, value: "first" },
        { admitted: false, refusal: "unauthenticated" },
        { admitted: true, value: "before" },
        { admitted: false, refusal: "limited" },
        { admitted: true, value: undefined },
        { admitted: true, value: undefined },
        { admitted: false, refusal: "unauthenticated" },
      ]);
      expect(sent.mock.calls.map(([command]) => command.name).filter((name) => name === "evalsha" || name === "eval")).toHaveLength(1);
    } finally {
      sent.mockRestore();
    }
    expect(await values.get(writer, "k")).toBe("second");
    expect(await redis.exists(valueKey(prefix, limitedUser, "k"))).toBe(0);
  });

  it(`sends at most ${MAX_ADMISSIONS_PER_SCRIPT} admissions per script call when more arrive in one turn`, async () => {
    await sessions.put(username, "tok", 60);
    const count = 2 * MAX_ADMISSIONS_PER_SCRIPT + 1;
    const sent = vi.spyOn(redis, "sendCommand");
    try {
      const outcomes = await Promise.all(Array.from({ length: count }, (_, i) => store.setIfAdmitted(admission("tok", "write", 100_000), `k${i}`, `v${i}`)));
      expect(outcomes.every((outcome) => outcome.admitted)).toBe(true);
      const scripts = sent.mock.calls.map(([command]) => command).filter((command) => command.name === "evalsha" || command.name === "eval");
      // Each call's first argument after the SHA (or script) is its number of keys: three per admission.
      expect(scripts.map((command) => Number(command.args[1]) / 3)).toEqual([MAX_ADMISSIONS_PER_SCRIPT, MAX_ADMISSIONS_PER_SCRIPT, 1]);
    } finally {
      sent.mockRestore();
    }
    expect(await values.get(username, `k${count - 1}`)).toBe(`v${count - 1}`);
  });

  it("fails every admission of a script call that fails, and the next turn's admissions get their own call", async () => {
    const offline = new Redis(SHARED_REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    offline.on("error", () => undefined);
    try {
      const unreachable = new RedisAdmittingValueStore(offline, prefix, clock);
      const failing = [unreachable.setIfAdmitted(admission("tok"), "k", "v"), unreachable.getIfAdmitted(admission("tok", "read"), "k")];
      for (const outcome of await Promise.allSettled(failing)) expect(outcome.status).toBe("rejected");
      // A command sent before the connection is up fails at once, and starts connecting (lazyConnect).
      await waitForRedis(offline, 5000);
      await sessions.put(username, "tok", 60);
      expect(await unreachable.setIfAdmitted(admission("tok"), "k", "after")).toEqual({ admitted: true, value: undefined });
      expect(await values.get(username, "k")).toBe("after");
    } finally {
      offline.disconnect();
    }
  });

  it("promises an answer within the client's command timeout, and nothing when the client has none", () => {
    const timed = new Redis(SHARED_REDIS_URL, { lazyConnect: true, commandTimeout: 750 });
    const untimed = new Redis(SHARED_REDIS_URL, { lazyConnect: true });
    try {
      expect(new RedisAdmittingValueStore(timed, prefix, clock).answersWithinMs).toBe(750);
      expect(new RedisAdmittingValueStore(untimed, prefix, clock).answersWithinMs).toBeUndefined();
    } finally {
      timed.disconnect();
      untimed.disconnect();
    }
  });
});
