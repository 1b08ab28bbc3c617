import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Code, createClient, DoraError } from "@dora/runtime";
import { createKvServiceClient } from "@dora/tiger/kv/v1";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "./infra/mysql/migrate.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { seedUsers } from "./infra/mysql/seed.js";
import { watchChannel } from "./infra/redis/redis-value-feed.js";
import { eventually, spawnEtserver, type ChildServer } from "./test-helpers/etserver.js";
import { deleteTestKeys, dropTestDatabase, SHARED_REDIS_URL, testNamespace } from "./test-helpers/stores.js";

// WatchSecureMessage across etserver processes on the MySQL store: a watcher
// on one instance receives the writes made through another, over Redis pub/sub.

const ETCLIENT_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../etclient/bin/etclient.js");
const ns = testNamespace();
const prefix = `${ns.keyPrefix}watch:`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "etserver-watch-e2e-"));
let a: ChildServer;
let b: ChildServer;
let redis: Redis;

beforeAll(async () => {
  await migrate(ns.mysqlUrl);
  const pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 2 });
  await seedUsers(pool, { users: 20 });
  await pool.end();
  const config = path.join(tmp, "etserver.yaml");
  fs.writeFileSync(config, `store: mysql\nlog: { level: warn }\nquota: { source: fixed, fixed: 100000 }\nmysql: { url: "${ns.mysqlUrl}" }\nredis: { url: "${SHARED_REDIS_URL}", keyPrefix: "${prefix}" }\n`);
  const spawn = () => spawnEtserver(["serve", "--config", config, "--listen", "127.0.0.1:0"]);
  [a, b] = await Promise.all([spawn(), spawn()]);
  redis = new Redis(SHARED_REDIS_URL);
});
afterAll(async () => {
  const codes = await Promise.all([a?.stop(), b?.stop()]);
  redis?.disconnect();
  await dropTestDatabase(ns.database);
  await deleteTestKeys(ns.keyPrefix);
  fs.rmSync(tmp, { recursive: true, force: true });
  expect(codes).toEqual([0, 0]);
});

/** Resolves once some etserver process subscribes to the watch channel of `user`'s `key` (Redis PUBSUB NUMSUB). */
async function subscribed(user: string, key: string, count = 1): Promise<void> {
  const channel = watchChannel(prefix, user, key);
  await eventually(async () => {
    const [, subscribers] = (await redis.pubsub("NUMSUB", channel)) as [string, number];
    if (subscribers < count) throw new Error(`${channel} has ${subscribers} subscribers`);
  });
}

describe("watches across two etserver instances (MySQL + Redis)", () => {
  it("a watcher on one instance receives, in order, every write made through the other", async () => {
    const onA = createClient({ address: a.address });
    const onB = createClient({ address: b.address });
    try {
      const watcherKv = createKvServiceClient(onA);
      const writerKv = createKvServiceClient(onB);
      const { token } = await watcherKv.login({ username: "7", password: "7" });
      // The session lives in Redis: the token from A is good on B too.
      const meta = { meta: { username: "7", token } };
      const watch = watcherKv.watchSecureMessage({ key: "k" }, meta)[Symbol.asyncIterator]();
      const first = watch.next();
      try {
        await subscribed("7", "k");
        for (const value of ["m", "n", "o"]) await writerKv.writeSecureMessage({ key: "k", value }, meta);
        const values = [(await first).value?.value, (await watch.next()).value?.value, (await watch.next()).value?.value];
        expect(values).toEqual(["m", "n", "o"]);
      } finally {
        // A client closes once its calls are done, and a watch is never done by itself.
        await watch.return?.();
      }
    } finally {
      await Promise.all([onA.close(), onB.close()]);
    }
  });

  it("refuses an unauthenticated watch on either instance", async () => {
    const client = createClient({ address: b.address });
    try {
      const kv = createKvServiceClient(client);
      const refusal = await kv.watchSecureMessage({ key: "k" }, { meta: { username: "8", token: "not-a-session" } })[Symbol.asyncIterator]().next().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(DoraError);
      expect(refusal).toMatchObject({ code: Code.Unauthenticated, rawMessage: "invalid or expired token" });
    } finally {
      await client.close();
    }
  });

  it("etclient watch on one instance prints the writes another etclient makes through the other, then stops after --count", async () => {
    const watcher = runEtclient(["watch", "-u", "9", "-p", "9", "-k", "a", "--count", "2", "--address", a.address]);
    // etclient sends the letter repeated 2000 times as the key.
    await subscribed("9", "a".repeat(2000));
    for (const value of ["m", "n"]) {
      const write = await runEtclient(["login,write", "-u", "9", "-p", "9", "-k", "a", "-v", value, "--address", b.address]).done;
      expect(write.stdout).toBe(`login ok user=9\nwrite a = ${value}\n`);
    }
    const result = await watcher.done;
    expect(result).toEqual({ code: 0, stdout: "watch a = m\nwatch a = n\n", stderr: "" });
  });

  it("etclient watch runs until interrupted, then exits 0 and the server drops the watch", async () => {
    const watcher = runEtclient(["watch", "-u", "10", "-p", "10", "-k", "b", "--address", a.address]);
    await subscribed("10", "b".repeat(2000));
    await runEtclient(["login,write", "-u", "10", "-p", "10", "-k", "b", "-v", "q", "--address", b.address]).done;
    await eventually(() => (watcher.stdout().includes("watch b = q\n") ? Promise.resolve() : Promise.reject(new Error("not printed yet"))));
    watcher.interrupt();
    expect(await watcher.done).toEqual({ code: 0, stdout: "watch b = q\n", stderr: "" });
    await eventually(async () => {
      const [, subscribers] = (await redis.pubsub("NUMSUB", watchChannel(prefix, "10", "b".repeat(2000)))) as [string, number];
      if (subscribers !== 0) throw new Error("still subscribed");
    });
  });

  it("etclient watch with a wrong password fails at login, exit 1", async () => {
    const result = await runEtclient(["watch", "-u", "11", "-p", "wrong", "-k", "a", "--address", a.address]).done;
    expect(result).toEqual({ code: 1, stdout: "", stderr: "login failed: incorrect username or password\n" });
  });
});

/** Runs the etclient bin; `done` resolves with its exit code and output. */
function runEtclient(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; stdout(): string; interrupt(): void } {
  const env = { ...process.env };
  delete env["ETCLIENT_ADDRESS"];
  const child = spawn(process.execPath, [ETCLIENT_BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), 25_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { done, stdout: () => stdout, interrupt: () => child.kill("SIGINT") };
}
