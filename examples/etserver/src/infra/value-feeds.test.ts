import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { CallScope } from "../app/call-scope.js";
import { SHUTTING_DOWN_MESSAGE, WatchUseCase, type ValueWatch, type Watcher } from "../app/watch.js";
import { ShuttingDownError, StoreUnavailableError, WatchLimitError } from "../domain/errors.js";
import { DEFAULT_KV_LIMITS, type ValueRepository } from "../domain/kvstore.js";
import { DEFAULT_WATCH_LIMITS, type ValueFeed, type WatchLimits } from "../domain/watch.js";
import { freePort } from "../test-helpers/processes.js";
import { deleteTestKeys, PrivateRedis, SHARED_REDIS_URL, testNamespace } from "../test-helpers/stores.js";
import { MemoryValueFeed } from "./memory/memory-value-feed.js";
import { MemoryValueRepository } from "./memory/memory-value-repository.js";
import { connectRedis, connectRedisSubscriber, waitForRedis } from "./redis/redis-connection.js";
import { RedisValueFeed, watchChannel } from "./redis/redis-value-feed.js";
import { RedisValueRepository, valueKey } from "./redis/redis-value-repository.js";

/** One store's feed and values, as etserver wires them. */
interface FeedFixture {
  readonly feed: ValueFeed;
  readonly values: ValueRepository;
  /** Channels (Redis) or owned keys (memory) with at least one local listener. */
  channelCount(): number;
  close(): Promise<void>;
}

const ns = testNamespace();
let prefixes = 0;

async function memoryFixture(): Promise<FeedFixture> {
  const feed = new MemoryValueFeed();
  return { feed, values: new MemoryValueRepository(feed), channelCount: () => feed.listenedKeyCount, close: () => Promise.resolve() };
}

async function redisFixture(url = SHARED_REDIS_URL): Promise<FeedFixture & { redis: Redis; subscriber: Redis; prefix: string; lost: number[] }> {
  const settings = { url, keyPrefix: `${ns.keyPrefix}${++prefixes}:`, commandTimeoutMs: 1000 };
  const redis = connectRedis(settings, () => undefined);
  const subscriber = connectRedisSubscriber(settings, () => undefined);
  await Promise.all([waitForRedis(redis, 5000), waitForRedis(subscriber, 5000)]);
  const lost: number[] = [];
  const feed = new RedisValueFeed(subscriber, settings.keyPrefix, (ended) => lost.push(ended));
  return {
    feed,
    values: new RedisValueRepository(redis, settings.keyPrefix),
    channelCount: () => feed.channelCount,
    redis,
    subscriber,
    prefix: settings.keyPrefix,
    lost,
    async close() {
      feed.close();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

afterAll(() => deleteTestKeys(ns.keyPrefix));

const scope = (signal = new AbortController().signal): CallScope => ({ deadline: undefined, signal });
const on = (username: string, connection = `conn-of-${username}`): Watcher => ({ username, connection });

/** The next value of a watch, or the error it ends with. */
async function nextOf(watch: ValueWatch): Promise<string | "done" | Error> {
  try {
    const result = await watch[Symbol.asyncIterator]().next();
    return result.done === true ? "done" : result.value;
  } catch (error) {
    return error as Error;
  }
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a refusal");
}

describe.each([
  ["memory", memoryFixture],
  ["Redis pub/sub", () => redisFixture()],
])("watches on the %s feed", (_label, makeFixture) => {
  let fixture: FeedFixture;
  let watches: WatchUseCase;
  const open = async (limits: Partial<WatchLimits> = {}) => {
    fixture = await makeFixture();
    watches = new WatchUseCase(fixture.feed, DEFAULT_KV_LIMITS, { ...DEFAULT_WATCH_LIMITS, ...limits });
  };
  afterEach(async () => {
    watches?.close();
    await fixture?.close();
  });

  /**
   * Waits until every value written before it reached this process: a write
   * to a barrier key travels the same path (for Redis: one publisher and one
   * subscriber connection, which keep order across channels).
   */
  async function barrier(username: string): Promise<void> {
    const watch = await watches.execute(on(username, "barrier"), "barrier", scope());
    await fixture.values.set(username, "barrier", "x");
    expect(await nextOf(watch)).toBe("x");
    watch.close();
  }

  it("delivers each value written after the watch opened, in write order, and nothing of other keys or users", async () => {
    await open();
    await fixture.values.set("7", "a", "before");
    const watch = await watches.execute(on("7"), "a", scope());
    // "1" + "2:x" and "1:2" + "x" would collide without the length prefix of the user name.
    const tricky = await watches.execute(on("1"), "2:x", scope());
    for (const value of ["m", "n", "o"]) await fixture.values.set("7", "a", value);
    await fixture.values.set("7", "b", "other key");
    await fixture.values.set("8", "a", "other user");
    await fixture.values.set("1:2", "x", "other pair");
    await fixture.values.set("7", "a", "p");
    expect([await nextOf(watch), await nextOf(watch), await nextOf(watch), await nextOf(watch)]).toEqual(["m", "n", "o", "p"]);
    await fixture.values.set("1", "2:x", "mine");
    expect(await nextOf(tricky)).toBe("mine");
    expect(await fixture.values.get("7", "a")).toBe("p");
  });

  it("serves every watcher of one key from one subscription, and drops it when the last one leaves", async () => {
    await open();
    const first = await watches.execute(on("7", "c1"), "a", scope());
    const second = await watches.execute(on("7", "c2"), "a", scope());
    expect(fixture.channelCount()).toBe(1);
    await fixture.values.set("7", "a", "both");
    expect([await nextOf(first), await nextOf(second)]).toEqual(["both", "both"]);
    first.close();
    expect(fixture.channelCount()).toBe(1);
    await fixture.values.set("7", "a", "second only");
    expect(await nextOf(second)).toBe("second only");
    expect(await nextOf(first)).toBe("done");
    second.close();
    expect(fixture.channelCount()).toBe(0);
    expect(watches.openCount).toBe(0);
  });

  it("refuses a user's watch beyond watch.maxPerUser with WatchLimitError, and frees the place when one ends", async () => {
    await open({ maxPerUser: 2 });
    const first = await watches.execute(on("7", "c1"), "a", scope());
    await watches.execute(on("7", "c2"), "b", scope());
    const refused = await refusal(watches.execute(on("7", "c3"), "c", scope()));
    expect(refused).toBeInstanceOf(WatchLimitError);
    expect(refused.message).toBe("too many watches of this user (at most 2)");
    await expect(watches.execute(on("8", "c3"), "c", scope())).resolves.toBeDefined();
    first.close();
    await expect(watches.execute(on("7", "c3"), "c", scope())).resolves.toBeDefined();
  });

  it("refuses a connection's watch beyond watch.maxPerConnection, whoever the user", async () => {
    await open({ maxPerConnection: 2 });
    await watches.execute(on("1", "c1"), "a", scope());
    const second = await watches.execute(on("2", "c1"), "a", scope());
    const refused = await refusal(watches.execute(on("3", "c1"), "a", scope()));
    expect(refused).toBeInstanceOf(WatchLimitError);
    expect(refused.message).toBe("too many watches on this connection (at most 2)");
    await expect(watches.execute(on("3", "c2"), "a", scope())).resolves.toBeDefined();
    second.close();
    await expect(watches.execute(on("3", "c1"), "a", scope())).resolves.toBeDefined();
  });

  it("refuses a watch beyond watch.maxPerProcess, whoever the user and connection", async () => {
    await open({ maxPerProcess: 3 });
    const first = await watches.execute(on("1"), "a", scope());
    await watches.execute(on("2"), "a", scope());
    await watches.execute(on("3"), "a", scope());
    const refused = await refusal(watches.execute(on("4"), "a", scope()));
    expect(refused).toBeInstanceOf(WatchLimitError);
    expect(refused.message).toBe("too many watches on this server (at most 3)");
    first.close();
    await expect(watches.execute(on("4"), "a", scope())).resolves.toBeDefined();
    expect(watches.openCount).toBe(3);
  });

  it("ends a watcher that falls more than watch.maxQueuedMessages behind with WatchLimitError, after the values it had", async () => {
    await open({ maxQueuedMessages: 3 });
    const slow = await watches.execute(on("7", "c1"), "a", scope());
    const keepingUp = await watches.execute(on("7", "c2"), "a", scope());
    for (const value of ["1", "2", "3"]) {
      await fixture.values.set("7", "a", value);
      expect(await nextOf(keepingUp)).toBe(value);
    }
    await fixture.values.set("7", "a", "4");
    expect(await nextOf(keepingUp)).toBe("4");
    // The fourth value found the slow watcher's queue full: its place is free at once.
    expect(watches.openCount).toBe(1);
    const results = [await nextOf(slow), await nextOf(slow), await nextOf(slow)];
    expect(results).toEqual(["1", "2", "3"]);
    const end = await nextOf(slow);
    expect(end).toBeInstanceOf(WatchLimitError);
    expect((end as Error).message).toBe("watcher too slow: more than 3 values waiting");
    expect(await nextOf(slow)).toBe("done");
    await fixture.values.set("7", "a", "5");
    expect(await nextOf(keepingUp)).toBe("5");
  });

  it("ends a watch whose call is abandoned, waking a reader that waits, and frees its place", async () => {
    await open({ maxPerUser: 1 });
    const abandon = new AbortController();
    const watch = await watches.execute(on("7"), "a", scope(abandon.signal));
    const waiting = nextOf(watch);
    abandon.abort();
    expect(await waiting).toBe("done");
    expect(watches.openCount).toBe(0);
    expect(fixture.channelCount()).toBe(0);
    await expect(watches.execute(on("7"), "a", scope())).resolves.toBeDefined();
  });

  it("refuses a key that breaks the key rules before taking a place", async () => {
    await open({ maxPerProcess: 1 });
    await expect(watches.execute(on("7"), "", scope())).rejects.toThrow("key must not be empty");
    await expect(watches.execute(on("7"), "k".repeat(4097), scope())).rejects.toThrow("more than 4096");
    expect(watches.openCount).toBe(0);
  });

  it("on shutdown ends every open watch with ShuttingDownError and refuses new ones", async () => {
    await open();
    const first = await watches.execute(on("7"), "a", scope());
    const second = await watches.execute(on("8"), "b", scope());
    await fixture.values.set("7", "a", "queued");
    await barrier("7");
    const waiting = nextOf(second);
    watches.close();
    const ends = [await waiting, await nextOf(first), await nextOf(first)];
    expect(ends[0]).toBeInstanceOf(ShuttingDownError);
    expect(ends[1]).toBe("queued");
    expect(ends[2]).toBeInstanceOf(ShuttingDownError);
    expect((ends[2] as Error).message).toBe(SHUTTING_DOWN_MESSAGE);
    expect(await refusal(watches.execute(on("9"), "a", scope()))).toBeInstanceOf(ShuttingDownError);
    expect(watches.openCount).toBe(0);
    expect(fixture.channelCount()).toBe(0);
  });
});

describe("watches over Redis pub/sub, across processes and outages", () => {
  it("names a long key by the SHA-256 of its owned key: a bounded Redis key and channel, one per (user, key), at the 64-character boundary", async () => {
    const fixture = await redisFixture();
    const listener = new Redis(SHARED_REDIS_URL);
    try {
      const long = "k".repeat(4096);
      const longer = `${long.slice(0, -1)}j`;
      // "2:12:" and 59 characters make an owned key of exactly 64: still plain; one more is hashed.
      const plain = "p".repeat(59);
      expect(valueKey(fixture.prefix, "12", plain)).toBe(`${fixture.prefix}v:2:12:${plain}`);
      const hashed = valueKey(fixture.prefix, "12", `${plain}p`);
      expect(hashed).toMatch(new RegExp(`^${fixture.prefix}v:h:[A-Za-z0-9_-]{43}$`));
      const name = valueKey(fixture.prefix, "12", long);
      expect(name).toMatch(new RegExp(`^${fixture.prefix}v:h:[A-Za-z0-9_-]{43}$`));
      expect(new Set([name, valueKey(fixture.prefix, "12", longer), valueKey(fixture.prefix, "13", long), valueKey(fixture.prefix, "1", `2:${long}`)]).size).toBe(4);
      expect(watchChannel(fixture.prefix, "12", long)).toBe(name);

      const seen: string[] = [];
      listener.on("message", (channel: string, value: string) => seen.push(`${channel} ${value}`));
      await listener.subscribe(name);
      await fixture.values.set("12", long, "v1");
      await fixture.values.set("12", longer, "another key");
      await fixture.values.set("13", long, "another user");
      await listener.unsubscribe();
      expect(seen).toEqual([`${name} v1`]);
      expect(await fixture.redis.get(name)).toBe("v1");
      expect(await fixture.values.get("12", long)).toBe("v1");
      expect(await fixture.values.get("12", longer)).toBe("another key");
      expect(await fixture.values.get("13", long)).toBe("another user");
      // No key under the prefix carries the user's 4096-character key.
      const names = await fixture.redis.keys(`${fixture.prefix}*`);
      expect(names).toHaveLength(3);
      for (const stored of names) expect(stored.length).toBe(fixture.prefix.length + 2 + 2 + 43);
    } finally {
      listener.disconnect();
      await fixture.close();
    }
  });

  it("publishes each write on the channel named as its value key (length-prefixed user and key), atomically with the SET", async () => {
    const fixture = await redisFixture();
    const listener = new Redis(SHARED_REDIS_URL);
    try {
      const seen: string[] = [];
      listener.on("message", (channel: string, value: string) => seen.push(`${channel} ${value}`));
      await listener.subscribe(`${fixture.prefix}v:2:12:key`);
      expect(watchChannel(fixture.prefix, "12", "key")).toBe(`${fixture.prefix}v:2:12:key`);
      await fixture.values.set("12", "key", "v1");
      await fixture.values.set("1", "2:key", "not this channel");
      await fixture.values.set("12", "key", "v2");
      await listener.unsubscribe();
      expect(seen).toEqual([`${fixture.prefix}v:2:12:key v1`, `${fixture.prefix}v:2:12:key v2`]);
    } finally {
      listener.disconnect();
      await fixture.close();
    }
  });

  it("a watch in one process receives the writes another process makes through its own connections", async () => {
    const watcherSide = await redisFixture();
    const writerSide = await redisFixture();
    const watches = new WatchUseCase(watcherSide.feed, DEFAULT_KV_LIMITS, DEFAULT_WATCH_LIMITS);
    try {
      // Both sides share one prefix, as two etservers on one Redis do.
      const writer = new RedisValueRepository(writerSide.redis, watcherSide.prefix);
      const watch = await watches.execute(on("7"), "a", scope());
      await writer.set("7", "a", "from elsewhere");
      expect(await nextOf(watch)).toBe("from elsewhere");
      watch.close();
    } finally {
      watches.close();
      await Promise.all([watcherSide.close(), writerSide.close()]);
    }
  });

  it("ends every watch with StoreUnavailableError when the subscriber connection drops, and serves new watches once it is back", async () => {
    const fixture = await redisFixture();
    const admin = new Redis(SHARED_REDIS_URL);
    const watches = new WatchUseCase(fixture.feed, DEFAULT_KV_LIMITS, DEFAULT_WATCH_LIMITS);
    try {
      // The subscriber's own id, so only this connection is killed on the shared Redis.
      const id = await fixture.subscriber.client("ID");
      const first = await watches.execute(on("7"), "a", scope());
      const second = await watches.execute(on("8"), "b", scope());
      const waiting = nextOf(first);
      await admin.client("KILL", "ID", String(id));
      const end = await waiting;
      expect(end).toBeInstanceOf(StoreUnavailableError);
      expect(await nextOf(second)).toBeInstanceOf(StoreUnavailableError);
      expect(watches.openCount).toBe(0);
      expect(fixture.channelCount()).toBe(0);
      expect(fixture.lost).toEqual([2]);
      await waitForRedis(fixture.subscriber, 5000);
      const again = await watches.execute(on("7"), "a", scope());
      await fixture.values.set("7", "a", "after the outage");
      expect(await nextOf(again)).toBe("after the outage");
    } finally {
      watches.close();
      admin.disconnect();
      await fixture.close();
    }
  });

  it("refuses a watch with StoreUnavailableError while Redis is down, and serves one when it returns", async () => {
    const redisServer = new PrivateRedis(await freePort());
    await redisServer.start();
    const fixture = await redisFixture(redisServer.url);
    const watches = new WatchUseCase(fixture.feed, DEFAULT_KV_LIMITS, DEFAULT_WATCH_LIMITS);
    try {
      await redisServer.stop();
      const refused = await refusal(watches.execute(on("7"), "a", scope()));
      expect(refused).toBeInstanceOf(StoreUnavailableError);
      expect(watches.openCount).toBe(0);
      await redisServer.start();
      await Promise.all([waitForRedis(fixture.redis, 10_000), waitForRedis(fixture.subscriber, 10_000)]);
      const watch = await watches.execute(on("7"), "a", scope());
      await fixture.values.set("7", "a", "back");
      expect(await nextOf(watch)).toBe("back");
    } finally {
      watches.close();
      await fixture.close();
      await redisServer.stop();
    }
  });
});
