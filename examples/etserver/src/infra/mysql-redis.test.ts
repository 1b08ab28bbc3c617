import { Redis } from "ioredis";
import type { Pool, RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketParams } from "../domain/ratelimiter.js";
import { dropTestDatabase, deleteTestKeys, SHARED_REDIS_URL, testNamespace } from "../test-helpers/stores.js";
import { FlexibleFailedLoginLimiter } from "./failed-login-limiter.js";
import { migrate } from "./mysql/migrate.js";
import { MysqlAccountRepository } from "./mysql/mysql-account-repository.js";
import { createMysqlPool } from "./mysql/mysql-pool.js";
import { MysqlQuotaRepository } from "./mysql/mysql-quota-repository.js";
import { seedUsers } from "./mysql/seed.js";
import { hashPassword } from "./password-hash.js";
import { RedisRateLimiter } from "./redis/redis-rate-limiter.js";
import { RedisSessionRepository } from "./redis/redis-session-repository.js";
import { eventually } from "../test-helpers/etserver.js";
import { ManualClock } from "../test-helpers/manual-clock.js";
import { RedisValueRepository } from "./redis/redis-value-repository.js";

const ns = testNamespace();
let pool: Pool;
let redis: Redis;

beforeAll(async () => {
  await migrate(ns.mysqlUrl);
  pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 4 });
  redis = new Redis(SHARED_REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await pool?.end();
  redis?.disconnect();
  await dropTestDatabase(ns.database);
  await deleteTestKeys(ns.keyPrefix);
});

describe("MySQL schema and seeding", () => {
  it("migrate is idempotent", async () => {
    await expect(migrate(ns.mysqlUrl)).resolves.toBe(ns.database);
    const [tables] = await pool.query<RowDataPacket[]>("SHOW TABLES");
    expect(tables.map((row) => Object.values(row)[0]).sort()).toEqual(["account", "quota"]);
  });

  it("seeds users 1..N once, with fast salted verifiers and formula quotas, in several batches at once; re-running adds nothing", async () => {
    const progress: number[] = [];
    const first = await seedUsers(pool, { users: 250, batchSize: 40, connections: 3, onProgress: (done) => progress.push(done) });
    expect(first).toMatchObject({ created: 250, existing: 0 });
    expect(progress).toHaveLength(7);
    expect(progress.at(-1)).toBe(250);
    const again = await seedUsers(pool, { users: 260, batchSize: 100 });
    expect(again).toMatchObject({ created: 10, existing: 250 });
    const [rows] = await pool.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n, COUNT(DISTINCT password_hash) AS distinct_hashes, SUM(password_hash REGEXP '^sha256[$][A-Za-z0-9+/]{22}==[$][A-Za-z0-9+/]{43}=$') AS fast FROM account",
    );
    expect(rows[0]).toMatchObject({ n: 260, distinct_hashes: 260 });
    expect(Number(rows[0]?.["fast"])).toBe(260);
    const [plain] = await pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM account WHERE password_hash = username OR password_hash LIKE CONCAT('%$', username)");
    expect(Number(plain[0]?.["n"])).toBe(0);
    const [quotas] = await pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM quota");
    expect(Number(quotas[0]?.["n"])).toBe(260);
    expect(await new MysqlQuotaRepository(pool).quotaOf("200")).toEqual({ read: 603, write: 203 });
    expect(await new MysqlQuotaRepository(pool).quotaOf("260")).toEqual({ read: 783, write: 263 });
    expect(await new MysqlQuotaRepository(pool).quotaOf("nobody")).toEqual({ read: 3, write: 3 });
  });

  it("checks passwords against the stored hash, with the hash's own parameters", async () => {
    await pool.query("INSERT INTO account (username, password_hash) VALUES (?, ?)", ["alice", await hashPassword("wonderland")]);
    const accounts = new MysqlAccountRepository(pool);
    expect(await accounts.checkPassword("alice", "wonderland")).toBe(true);
    expect(await accounts.checkPassword("alice", "Wonderland")).toBe(false);
    expect(await accounts.checkPassword("12", "12")).toBe(true);
    expect(await accounts.checkPassword("12", "13")).toBe(false);
    expect(await accounts.checkPassword("no-such-user", "x")).toBe(false);
  });

  it("upgrades a seeded account to a regular scrypt hash on its first successful login, and only then", async () => {
    const hashOf = async (username: string) => {
      const [rows] = await pool.query<RowDataPacket[]>("SELECT password_hash FROM account WHERE username = ?", [username]);
      return rows[0]?.["password_hash"] as string;
    };
    const accounts = new MysqlAccountRepository(pool);
    const seeded = await hashOf("33");
    expect(seeded.startsWith("sha256$")).toBe(true);
    expect(await accounts.checkPassword("33", "34")).toBe(false);
    expect(await hashOf("33")).toBe(seeded);
    expect(await accounts.checkPassword("33", "33")).toBe(true);
    const upgraded = await hashOf("33");
    expect(upgraded).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await accounts.checkPassword("33", "33")).toBe(true);
    expect(await accounts.checkPassword("33", "34")).toBe(false);
    expect(await hashOf("33")).toBe(upgraded);
    // A row seeded by an earlier version (scrypt N = 2^10) is upgraded too.
    await pool.query("UPDATE account SET password_hash = ? WHERE username = '34'", [await hashPassword("34", { N: 1024, r: 8, p: 1 })]);
    expect(await accounts.checkPassword("34", "34")).toBe(true);
    expect((await hashOf("34")).startsWith("scrypt$32768$8$1$")).toBe(true);
    // Seeding again leaves the upgraded rows alone.
    await seedUsers(pool, { users: 40 });
    expect(await hashOf("33")).toBe(upgraded);
  });
});

describe("Redis repositories", () => {
  it("namespaces values per user", async () => {
    const values = new RedisValueRepository(redis, ns.keyPrefix);
    await values.set("1", "k", "one");
    await values.set("2", "k", "two");
    expect(await values.get("1", "k")).toBe("one");
    expect(await values.get("2", "k")).toBe("two");
    expect(await values.get("3", "k")).toBeUndefined();
  });

  it("stores sessions with a TTL", async () => {
    const sessions = new RedisSessionRepository(redis, ns.keyPrefix);
    await sessions.put("1", "tok", 100);
    expect(await sessions.tokenOf("1")).toBe("tok");
    const ttl = await redis.ttl(`${ns.keyPrefix}s:1`);
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
  });

  it("ends a session when etserver's clock passes its expiry, before Redis drops the key", async () => {
    const clock = new ManualClock();
    const sessions = new RedisSessionRepository(redis, ns.keyPrefix, clock);
    await sessions.put("2", "tok", 100);
    clock.advance(99_999);
    expect(await sessions.tokenOf("2")).toBe("tok");
    clock.advance(1);
    expect(await sessions.tokenOf("2")).toBeUndefined();
    expect(await redis.exists(`${ns.keyPrefix}s:2`)).toBe(1);
  });

  it("runs the token bucket in Lua: burst takes at once, then refused, shared by two clients", async () => {
    const other = new Redis(SHARED_REDIS_URL);
    try {
      const a = new RedisRateLimiter(redis, ns.keyPrefix);
      const b = new RedisRateLimiter(other, ns.keyPrefix);
      const params = bucketParams(30); // burst 3, 30/s
      const results: boolean[] = [];
      for (let i = 0; i < 4; i++) results.push(await (i % 2 === 0 ? a : b).tryTake("write:u1", params));
      expect(results).toEqual([true, true, true, false]);
      // 30/s refills a token every 33 ms on Redis's clock; a refused take spends nothing.
      await eventually(async () => {
        if (!(await a.tryTake("write:u1", params))) throw new Error("not refilled yet");
      });
      expect(await a.tryTake("read:u1", params)).toBe(true);
      expect(await redis.pttl(`${ns.keyPrefix}rl:write:u1`)).toBeGreaterThan(0);
    } finally {
      other.disconnect();
    }
  });

  it("counts failed logins in Redis across limiter instances; a right password gives its point back", async () => {
    const limits = { maxFailuresPerUser: 2, maxFailuresPerPeer: 50, windowSeconds: 60 };
    const one = new FlexibleFailedLoginLimiter(limits, { client: redis, keyPrefix: ns.keyPrefix });
    const two = new FlexibleFailedLoginLimiter(limits, { client: redis, keyPrefix: ns.keyPrefix });
    const signal = new AbortController().signal;
    (await one.begin("bob", "10.0.0.1", signal)).succeeded();
    (await two.begin("bob", "10.0.0.1", signal)).failed();
    (await one.begin("bob", "10.0.0.2", signal)).failed();
    await expect(two.begin("bob", "10.0.0.3", signal)).rejects.toThrow("too many failed logins");
    // The refused attempt left nothing behind: the user key holds the two failures, each peer key its own.
    expect(await redis.get(`${ns.keyPrefix}login-fail-user:p:bob`)).toBe("2");
    expect(await redis.get(`${ns.keyPrefix}login-fail-peer:p:10.0.0.3`)).toBe("0");
  });
});
