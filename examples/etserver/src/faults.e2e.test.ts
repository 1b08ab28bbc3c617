import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Code, createClient, DoraError, type Client } from "@dora/runtime";
import { createKvServiceClient } from "@dora/tiger/kv/v1";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchChannel } from "./infra/redis/redis-value-feed.js";
import { migrate } from "./infra/mysql/migrate.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { hashPassword } from "./infra/password-hash.js";
import { eventually, spawnEtserver, type ChildServer } from "./test-helpers/etserver.js";
import { freePort } from "./test-helpers/processes.js";
import { deleteTestKeys, dropTestDatabase, PrivateRedis, SHARED_REDIS_URL, testNamespace } from "./test-helpers/stores.js";

/**
 * Faults injected into real processes (SPEC §6): etserver killed by its own
 * PID (never npm's), stopped gracefully under load, and its Redis stopped or
 * frozen. Every assertion is about outcomes (codes, values, exits), never
 * about elapsed time; a hang fails the test by its timeout.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const ETCLIENT_BIN = path.resolve(here, "../../etclient/bin/etclient.js");
const ns = testNamespace();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "etserver-faults-"));
const USER = "100000"; // formula quota 100000/s: no rate limit in the way
const PASSWORD = USER;

beforeAll(async () => {
  await migrate(ns.mysqlUrl);
  const pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 1 });
  await pool.query("INSERT INTO account (username, password_hash) VALUES (?, ?)", [USER, await hashPassword(PASSWORD)]);
  await pool.end();
});
afterAll(async () => {
  await dropTestDatabase(ns.database);
  await deleteTestKeys(ns.keyPrefix);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A config.yaml for the MySQL + Redis store. */
function mysqlConfig(name: string, redisUrl: string, keyPrefix: string, extra = ""): string {
  const file = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(file, `store: mysql\nlog: { level: error }\nmysql: { url: "${ns.mysqlUrl}", poolSize: 4 }\nredis: { url: "${redisUrl}", keyPrefix: "${keyPrefix}", commandTimeoutMs: 500 }\n${extra}`);
  return file;
}

/** Kills `server` with SIGKILL, sent to its own PID, and waits until it is gone. */
async function kill9(server: ChildServer): Promise<void> {
  const exited = once(server.child, "exit");
  expect(server.child.pid).toBeGreaterThan(0);
  process.kill(server.child.pid!, "SIGKILL");
  const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  expect(signal).toBe("SIGKILL");
}

/** Stops `server` gracefully unless it already exited (a killed process has a signalCode, no exitCode). */
async function stopIfRunning(server: ChildServer): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) await server.stop();
}

/** The code a settled call ended with: 0 for success. */
async function outcome(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 0;
  } catch (error) {
    if (!(error instanceof DoraError)) throw error;
    return error.code;
  }
}

describe("etserver killed (kill -9 of its own PID)", () => {
  it("during an etclient benchmark: the benchmark stops by itself, prints what it measured and exits 1, without spinning", async () => {
    const prefix = `${ns.keyPrefix}bench:`;
    const server = await spawnEtserver(["serve", "--config", mysqlConfig("bench", SHARED_REDIS_URL, prefix), "--listen", "127.0.0.1:0"]);
    // Every write is published on its key's watch channel. Each of the 12 workers awaits its
    // answer before its next write, so once 13 writes are published at least one worker has
    // had an answer: the benchmark has measured something when etserver dies.
    const subscriber = new Redis(SHARED_REDIS_URL);
    let published = 0;
    subscriber.on("message", () => published++);
    await subscriber.subscribe(watchChannel(prefix, USER, "a".repeat(2000)));
    const client = spawn(
      process.execPath,
      [ETCLIENT_BIN, "benchmark", "write", "-u", USER, "-p", PASSWORD, "-k", "a", "-v", "b", "-c", "12", "-r", "1000000", "--address", server.address, "--timeout-ms", "2000", "--json"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    client.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    client.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(client, "exit");
    try {
      await eventually(async () => {
        if (published < 13) throw new Error(`${published} writes published so far (etclient: ${stderr})`);
      }, 20_000);
      await kill9(server);
      const [code] = (await exited) as [number | null];
      expect(code, stderr).toBe(1);
      const report = JSON.parse(stdout) as { Success: number; Failure: number; Concurrency: number };
      expect(report.Concurrency).toBe(12);
      expect(report.Success).toBeGreaterThan(0);
      // Each worker pauses after a failure to connect: a few hundred failures at most, not millions.
      expect(report.Failure).toBeGreaterThan(0);
      expect(report.Failure).toBeLessThan(1000);
      expect(stderr).toMatch(/^benchmark failed: the server is unreachable: no call reached it for \d+ ms \(Unavailable: /m);
      expect(stderr).not.toMatch(/^\s+at /m);
    } finally {
      subscriber.disconnect();
      if (client.exitCode === null && client.signalCode === null) client.kill("SIGKILL");
      await stopIfRunning(server);
    }
  });

  it("calls fail within their deadline, and the same client succeeds once etserver is back on its port", async () => {
    const port = await freePort();
    const listen = ["serve", "--store", "memory", "--listen", `127.0.0.1:${port}`, "--log-level", "error"];
    const first = await spawnEtserver(listen);
    const client: Client = createClient({ address: first.address, timeoutMs: 3000, poolSize: 4 });
    const kv = createKvServiceClient(client);
    let second: ChildServer | undefined;
    try {
      const { token } = await kv.login({ username: "7", password: "7" });
      expect((await kv.readSecureMessage({ key: "k" }, { meta: { username: "7", token } })).status?.code).toBe(1001);
      // Calls in flight while the process dies, and calls made after.
      const during = Array.from({ length: 20 }, () => outcome(kv.readSecureMessage({ key: "k" }, { meta: { username: "7", token } })));
      await kill9(first);
      const after = Array.from({ length: 20 }, () => outcome(kv.readSecureMessage({ key: "k" }, { meta: { username: "7", token } })));
      const codes = await Promise.all([...during, ...after]);
      for (const code of codes.slice(20)) expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(code);
      for (const code of codes.slice(0, 20)) expect([0, Code.Unavailable, Code.DeadlineExceeded]).toContain(code);

      second = await spawnEtserver(listen);
      // The memory store starts empty: log in again, with the same client object.
      const fresh = await eventually(async () => (await kv.login({ username: "7", password: "7" })).token, 20_000);
      await kv.writeSecureMessage({ key: "k", value: "back" }, { meta: { username: "7", token: fresh } });
      expect((await kv.readSecureMessage({ key: "k" }, { meta: { username: "7", token: fresh } })).value).toBe("back");
    } finally {
      await client.close();
      if (second !== undefined) await stopIfRunning(second);
      await stopIfRunning(first);
    }
  });
});

/**
 * Writers that each write their own key with increasing values, awaiting
 * each write, until one fails; returns the last acknowledged value per key.
 */
async function writeUntilFailure(kv: ReturnType<typeof createKvServiceClient>, token: string, writers: number, started: () => void): Promise<{ acked: number[]; failureCodes: number[] }> {
  const acked = new Array<number>(writers).fill(0);
  const failureCodes: number[] = [];
  let total = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let v = 1; ; v++) {
        const code = await outcome(kv.writeSecureMessage({ key: `w${w}`, value: String(v) }, { meta: { username: USER, token } }));
        if (code !== 0) {
          failureCodes.push(code);
          return;
        }
        acked[w] = v;
        if (++total === 200) started();
      }
    }),
  );
  return { acked, failureCodes };
}

/** Every writer's key, read back through a fresh etserver: each holds its last acknowledged value, or the one sent after it. */
async function expectAcknowledgedWrites(address: string, token: string, acked: readonly number[]): Promise<void> {
  const client = createClient({ address });
  try {
    const kv = createKvServiceClient(client);
    for (const [w, value] of acked.entries()) {
      expect(value, `writer ${w} had writes acknowledged`).toBeGreaterThan(0);
      const read = await kv.readSecureMessage({ key: `w${w}` }, { meta: { username: USER, token } });
      expect([String(value), String(value + 1)], `key w${w}`).toContain(read.value);
    }
  } finally {
    await client.close();
  }
}

describe("etserver stopped under writes (MySQL + Redis store)", () => {
  for (const how of ["SIGTERM (graceful)", "SIGKILL"] as const) {
    it(`${how}: no call is left hanging, and every acknowledged write is read back after a restart`, async () => {
      const config = mysqlConfig(`stop-${how.slice(0, 7)}`, SHARED_REDIS_URL, `${ns.keyPrefix}${how.slice(3, 7)}:`);
      const args = ["serve", "--config", config, "--listen", "127.0.0.1:0"];
      const first = await spawnEtserver(args);
      const client = createClient({ address: first.address, poolSize: 4, timeoutMs: 3000 });
      let second: ChildServer | undefined;
      try {
        const kv = createKvServiceClient(client);
        const { token } = await kv.login({ username: USER, password: PASSWORD });
        let markStarted!: () => void;
        const started = new Promise<void>((resolve) => (markStarted = resolve));
        const writing = writeUntilFailure(kv, token, 8, markStarted);
        await started;
        if (how === "SIGKILL") await kill9(first);
        else expect(await first.stop()).toBe(0);
        // Every writer's last call settled (the test's timeout catches a hang) with a clear code.
        const { acked, failureCodes } = await writing;
        expect(failureCodes).toHaveLength(8);
        for (const code of failureCodes) expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(code);

        second = await spawnEtserver(args);
        // Sessions live in Redis: the token from before the stop still reads.
        await expectAcknowledgedWrites(second.address, token, acked);
      } finally {
        await client.close();
        if (second !== undefined) await stopIfRunning(second);
        await stopIfRunning(first);
      }
    });
  }
});

describe("Redis frozen and stopped under load (MySQL + Redis store, etserver and redis-server as processes)", () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("answers Unavailable while Redis is frozen (SIGSTOP) or down, never hangs or crashes, and recovers by itself", async () => {
    const server = await spawnEtserver(["serve", "--config", mysqlConfig("redis-faults", redis.url, "dora-test-faults:"), "--listen", "127.0.0.1:0"]);
    const client = createClient({ address: server.address, poolSize: 4, timeoutMs: 2000 });
    const kv = createKvServiceClient(client);
    const load = async (token: string) =>
      Promise.all(Array.from({ length: 40 }, (_, i) => outcome(kv.readSecureMessage({ key: `k${i % 4}` }, { meta: { username: USER, token } }))));
    try {
      const { token } = await kv.login({ username: USER, password: PASSWORD });
      expect(new Set(await load(token))).toEqual(new Set([0]));

      redis.pause();
      try {
        expect(new Set(await load(token))).toEqual(new Set([Code.Unavailable]));
        expect(await outcome(kv.login({ username: USER, password: PASSWORD }))).toBe(Code.Unavailable);
      } finally {
        redis.resume();
      }
      await eventually(async () => expect(new Set(await load(token))).toEqual(new Set([0])));

      await redis.stop();
      expect(new Set(await load(token))).toEqual(new Set([Code.Unavailable]));
      await redis.start();
      // The private Redis kept nothing (no persistence): log in again once it answers.
      const fresh = await eventually(async () => {
        const response = await kv.login({ username: USER, password: PASSWORD });
        if (response.token === "") throw new Error("no token");
        return response.token;
      }, 20_000);
      expect(new Set(await load(fresh))).toEqual(new Set([0]));
      // The same process served throughout.
      expect(server.child.exitCode).toBeNull();
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
