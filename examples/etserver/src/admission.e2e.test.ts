import { Code } from "@dora/runtime";
import { Code as Status } from "@dora/tiger/kv/v1";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORE_UNAVAILABLE_MESSAGE } from "./api/errors.js";
import { INVALID_TOKEN_MESSAGE } from "./app/authenticate.js";
import { RATE_LIMIT_MESSAGE } from "./app/rate-limit.js";
import { migrate } from "./infra/mysql/migrate.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { seedUsers } from "./infra/mysql/seed.js";
import { bucketKey } from "./infra/redis/redis-rate-limiter.js";
import { valueKey } from "./infra/redis/redis-value-repository.js";
import { failureOf, startInProcess, testConfig, type InProcessServer } from "./test-helpers/etserver.js";
import { ManualClock } from "./test-helpers/manual-clock.js";
import { freePort } from "./test-helpers/processes.js";
import { deleteTestKeys, dropTestDatabase, PrivateRedis, SHARED_REDIS_URL, testNamespace } from "./test-helpers/stores.js";

/**
 * SPEC §6 on the MySQL + Redis store, where a read or write with a valid key
 * is admitted and served by one Redis script: the same outcomes, in the same
 * order, as the `auth` and `limit` interceptors give one store call at a time.
 */
const ns = testNamespace();
const prefix = `${ns.keyPrefix}adm:`;
const clock = new ManualClock(Date.now());
let redis: Redis;
let a: InProcessServer;
let b: InProcessServer;

/** Two etservers on one MySQL and one Redis; quota 1000/s (burst 100) for everyone; session TTL 60 s on a manual clock. */
const config = () =>
  testConfig({
    store: "mysql",
    mysql: { url: ns.mysqlUrl, poolSize: 4 },
    redis: { url: SHARED_REDIS_URL, keyPrefix: prefix },
    quota: { source: "fixed", fixed: 1000 },
    session: { ttlSeconds: 60 },
  });

beforeAll(async () => {
  await migrate(ns.mysqlUrl);
  const pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 2 });
  await seedUsers(pool, { users: 20 });
  await pool.end();
  redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
  a = await startInProcess(config(), { clock });
  b = await startInProcess(config(), { clock });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  redis?.disconnect();
  await dropTestDatabase(ns.database);
  await deleteTestKeys(ns.keyPrefix);
});

async function codeAndMessage(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  const error = await failureOf(promise);
  return { code: error.code, message: error.rawMessage };
}

const bucketOf = (username: string, kind: "read" | "write") => bucketKey(prefix, `${kind}:${username}`);

/** Whether the user's bucket was ever spent from (a bucket never spent from has no key). */
async function spent(username: string, kind: "read" | "write" = "write"): Promise<boolean> {
  return (await redis.exists(bucketOf(username, kind))) === 1;
}

/** Empties a bucket until after any test ends: no tokens, last refilled an hour ahead of Redis's clock. */
async function emptyBucket(username: string, kind: "read" | "write"): Promise<void> {
  const [seconds] = await redis.time();
  await redis.hset(bucketOf(username, kind), "tokens", "0", "ts", String((Number(seconds) + 3600) * 1000));
}

async function login(server: InProcessServer, username: string): Promise<string> {
  const { token } = await server.kv.login({ username, password: username });
  expect(token).not.toBe("");
  return token;
}

describe("reads and writes admitted in one Redis script (MySQL + Redis store)", () => {
  it("a wrong, expired or empty token is Unauthenticated, spends no token and writes nothing", async () => {
    const token = await login(a, "1");
    const write = (t: string) => codeAndMessage(a.kv.writeSecureMessage({ key: "k", value: "v" }, { meta: { username: "1", token: t } }));
    const read = (t: string) => codeAndMessage(a.kv.readSecureMessage({ key: "k" }, { meta: { username: "1", token: t } }));
    const refused = { code: Code.Unauthenticated, message: INVALID_TOKEN_MESSAGE };
    expect(await write(`${token}x`)).toEqual(refused);
    expect(await write("")).toEqual(refused);
    expect(await read(token.toUpperCase())).toEqual(refused);
    expect(await codeAndMessage(a.kv.writeSecureMessage({ key: "k", value: "v" }, { meta: { username: "2", token } }))).toEqual(refused);
    clock.advance(60_000);
    expect(await write(token)).toEqual(refused);
    expect(await read(token)).toEqual(refused);
    expect(await spent("1", "write")).toBe(false);
    expect(await spent("1", "read")).toBe(false);
    expect(await spent("2", "write")).toBe(false);
    expect(await redis.exists(valueKey(prefix, "1", "k"), valueKey(prefix, "2", "k"))).toBe(0);
  });

  it("a write refused by the rate limit stores nothing", async () => {
    const token = await login(a, "3");
    await emptyBucket("3", "write");
    expect(await codeAndMessage(a.kv.writeSecureMessage({ key: "k", value: "v" }, { meta: { username: "3", token } }))).toEqual({
      code: Code.Unavailable,
      message: RATE_LIMIT_MESSAGE,
    });
    expect(await redis.exists(valueKey(prefix, "3", "k"))).toBe(0);
    expect((await a.kv.readSecureMessage({ key: "k" }, { meta: { username: "3", token } })).status?.code).toBe(Status.KEY_NOT_EXIST);
  });

  it("a bad key is checked after auth and limit: with a bad token Unauthenticated and nothing spent, with a good session one token spent, then BadRequest", async () => {
    const token = await login(a, "4");
    const long = "k".repeat(4097);
    expect((await failureOf(a.kv.writeSecureMessage({ key: long, value: "v" }, { meta: { username: "4", token: "wrong" } }))).code).toBe(Code.Unauthenticated);
    expect((await failureOf(a.kv.writeSecureMessage({ key: "", value: "v" }, { meta: { username: "4", token: "wrong" } }))).code).toBe(Code.Unauthenticated);
    expect((await failureOf(a.kv.readSecureMessage({ key: long }, { meta: { username: "4", token: "wrong" } }))).code).toBe(Code.Unauthenticated);
    expect(await spent("4", "write")).toBe(false);
    expect(await spent("4", "read")).toBe(false);

    expect((await failureOf(a.kv.writeSecureMessage({ key: long, value: "v" }, { meta: { username: "4", token } }))).code).toBe(Code.BadRequest);
    expect(await spent("4", "write")).toBe(true);
    expect((await failureOf(a.kv.writeSecureMessage({ key: "k", value: "v".repeat(61_441) }, { meta: { username: "4", token } }))).code).toBe(Code.BadRequest);
    expect((await failureOf(a.kv.readSecureMessage({ key: long }, { meta: { username: "4", token } }))).code).toBe(Code.BadRequest);
    expect(await spent("4", "read")).toBe(true);
    // An empty bucket still comes first: the bad key is never looked at.
    await emptyBucket("4", "write");
    expect(await codeAndMessage(a.kv.writeSecureMessage({ key: long, value: "v" }, { meta: { username: "4", token } }))).toEqual({ code: Code.Unavailable, message: RATE_LIMIT_MESSAGE });
    expect(await redis.exists(valueKey(prefix, "4", "k"))).toBe(0);
  });

  it("a second etserver on the same Redis sees the same sessions, values and buckets", async () => {
    const token = await login(a, "5");
    await b.kv.writeSecureMessage({ key: "k", value: "from b" }, { meta: { username: "5", token } });
    expect((await a.kv.readSecureMessage({ key: "k" }, { meta: { username: "5", token } })).value).toBe("from b");
    await emptyBucket("5", "write");
    for (const server of [a, b]) {
      expect(await codeAndMessage(server.kv.writeSecureMessage({ key: "k", value: "v" }, { meta: { username: "5", token } }))).toEqual({
        code: Code.Unavailable,
        message: RATE_LIMIT_MESSAGE,
      });
    }
    // A login on b replaces the session a's callers hold.
    const newer = await login(b, "5");
    expect(await codeAndMessage(a.kv.readSecureMessage({ key: "k" }, { meta: { username: "5", token } }))).toEqual({ code: Code.Unauthenticated, message: INVALID_TOKEN_MESSAGE });
    expect((await a.kv.readSecureMessage({ key: "k" }, { meta: { username: "5", token: newer } })).value).toBe("from b");
  });

  it("answers Unavailable, with no detail, on reads and writes while Redis is down", async () => {
    const privateRedis = new PrivateRedis(await freePort());
    await privateRedis.start();
    const server = await startInProcess(
      testConfig({ store: "mysql", mysql: { url: ns.mysqlUrl, poolSize: 2 }, redis: { url: privateRedis.url, keyPrefix: "dora-test-private-adm:", commandTimeoutMs: 300 } }),
    );
    try {
      const token = await login(server, "6");
      await server.kv.writeSecureMessage({ key: "k", value: "v" }, { meta: { username: "6", token } });
      await privateRedis.stop();
      const down = { code: Code.Unavailable, message: STORE_UNAVAILABLE_MESSAGE };
      expect(await codeAndMessage(server.kv.writeSecureMessage({ key: "k", value: "v" }, { meta: { username: "6", token }, timeoutMs: 2000 }))).toEqual(down);
      expect(await codeAndMessage(server.kv.readSecureMessage({ key: "k" }, { meta: { username: "6", token }, timeoutMs: 2000 }))).toEqual(down);
    } finally {
      await server.close();
      await privateRedis.stop();
    }
  });
});
