import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Code, createClient, DoraError } from "@dora/runtime";
import { Code as Status, createKvServiceClient } from "@dora/tiger/kv/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mysql from "mysql2/promise";
import { migrate } from "./infra/mysql/migrate.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { seedUsers } from "./infra/mysql/seed.js";
import { eventually, MAKE_CERTS, runEtserver, spawnEtserver, startInProcess, testConfig } from "./test-helpers/etserver.js";
import { decodePkg, decodeStatusAndString, encodePkg, encodeStrings, RawDoraPeer } from "./test-helpers/raw-dora-v2.js";
import { freePort } from "./test-helpers/processes.js";
import { deleteTestKeys, dropTestDatabase, PrivateRedis, SHARED_REDIS_URL, testNamespace } from "./test-helpers/stores.js";

const ns = testNamespace();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "etserver-e2e-"));

beforeAll(async () => {
  await migrate(ns.mysqlUrl);
  const pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 2 });
  await seedUsers(pool, { users: 20 });
  await pool.end();
});
afterAll(async () => {
  await dropTestDatabase(ns.database);
  await deleteTestKeys(ns.keyPrefix);
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<DoraError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DoraError);
    return error as DoraError;
  }
  throw new Error("expected the call to fail");
}

/** A config.yaml for the MySQL + Redis store with the test's database and key prefix. */
function mysqlConfigFile(name: string, prefix: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `store: mysql\nlog: { level: warn }\nmysql: { url: "${ns.mysqlUrl}" }\nredis: { url: "${SHARED_REDIS_URL}", keyPrefix: "${prefix}" }\n`);
  return file;
}

describe("MySQL + Redis across processes", () => {
  it("keeps values across a restart (durability)", async () => {
    const config = mysqlConfigFile("durable.yaml", `${ns.keyPrefix}durable:`);
    const first = await spawnEtserver(["serve", "--config", config, "--listen", "127.0.0.1:0"]);
    const c1 = createClient({ address: first.address });
    const kv1 = createKvServiceClient(c1);
    const { token } = await kv1.login({ username: "3", password: "3" });
    await kv1.writeSecureMessage({ key: "d", value: "kept" }, { meta: { username: "3", token } });
    await c1.close();
    expect(await first.stop()).toBe(0);

    const second = await spawnEtserver(["serve", "--config", config, "--listen", "127.0.0.1:0"]);
    const c2 = createClient({ address: second.address });
    try {
      const kv2 = createKvServiceClient(c2);
      // The session lives in Redis too, so the old token still works after the restart.
      const read = await kv2.readSecureMessage({ key: "d" }, { meta: { username: "3", token } });
      expect(read.value).toBe("kept");
    } finally {
      await c2.close();
      await second.stop();
    }
  });

  it("two instances on different ports share sessions and one user's rate limit", async () => {
    const prefix = `${ns.keyPrefix}pair:`;
    const make = () => testConfig({ store: "mysql", mysql: { url: ns.mysqlUrl, poolSize: 4 }, redis: { url: SHARED_REDIS_URL, keyPrefix: prefix } });
    const a = await startInProcess(make());
    const b = await startInProcess(make());
    try {
      expect(a.address).not.toBe(b.address);
      const { token } = await a.kv.login({ username: "1", password: "1" });
      const meta = { meta: { username: "1", token } };
      expect((await b.kv.readSecureMessage({ key: "x" }, meta)).status?.code).toBe(Status.KEY_NOT_EXIST);
      // User 1 writes 4/s with a burst of 1: the write on A empties the shared bucket for B.
      await a.kv.writeSecureMessage({ key: "x", value: "from-a" }, meta);
      expect((await failure(b.kv.writeSecureMessage({ key: "x", value: "from-b" }, meta))).rawMessage).toBe("rate limit");
      // B's read bucket (6/s, burst 1) was spent above: read again once it has refilled.
      expect((await eventually(() => b.kv.readSecureMessage({ key: "x" }, meta))).value).toBe("from-a");
      // A login on B replaces A's token everywhere.
      const again = await b.kv.login({ username: "1", password: "1" });
      expect(again.token).not.toBe(token);
      expect((await failure(a.kv.readSecureMessage({ key: "x" }, meta))).code).toBe(Code.Unauthenticated);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("answers Unavailable within the deadline while Redis is down, and recovers when it is back", async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const server = await startInProcess(
      testConfig({ store: "mysql", mysql: { url: ns.mysqlUrl, poolSize: 4 }, redis: { url: redis.url, keyPrefix: "dora-test-private:", commandTimeoutMs: 300 } }),
    );
    try {
      const { token } = await server.kv.login({ username: "5", password: "5" });
      expect(token).not.toBe("");
      await redis.stop();
      // Unavailable, not DeadlineExceeded: the server answered before the call's deadline.
      const down = await failure(server.kv.readSecureMessage({ key: "a" }, { meta: { username: "5", token }, timeoutMs: 2000 }));
      expect(down.code).toBe(Code.Unavailable);
      expect(down.rawMessage).not.toMatch(/redis|ECONNREFUSED|127\.0\.0\.1/i);
      expect((await failure(server.kv.login({ username: "5", password: "5" }, { timeoutMs: 2000 }))).code).toBe(Code.Unavailable);

      await redis.start();
      // The private Redis kept nothing, so log in again once it answers.
      const fresh = await eventually(async () => {
        const response = await server.kv.login({ username: "5", password: "5" });
        if (response.token === "") throw new Error("no token");
        return response.token;
      });
      await server.kv.writeSecureMessage({ key: "a", value: "back" }, { meta: { username: "5", token: fresh } });
      expect((await server.kv.readSecureMessage({ key: "a" }, { meta: { username: "5", token: fresh } })).value).toBe("back");
    } finally {
      await server.close();
      await redis.stop();
    }
  });

  it("answers Unavailable, not DeadlineExceeded, when Redis hangs longer than the call's deadline", async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    // commandTimeoutMs is far longer than the call's deadline: only the race against the deadline can answer in time.
    const server = await startInProcess(
      testConfig({ store: "mysql", mysql: { url: ns.mysqlUrl, poolSize: 4 }, redis: { url: redis.url, keyPrefix: "dora-test-slow:", commandTimeoutMs: 30_000 } }),
    );
    try {
      const { token } = await server.kv.login({ username: "6", password: "6" });
      redis.pause();
      // Unavailable, not DeadlineExceeded: the server answered before the call's deadline.
      const slow = await failure(server.kv.readSecureMessage({ key: "a" }, { meta: { username: "6", token }, timeoutMs: 800 }));
      expect(slow.code).toBe(Code.Unavailable);
      redis.resume();
      await eventually(() => server.kv.readSecureMessage({ key: "a" }, { meta: { username: "6", token }, timeoutMs: 800 }));
    } finally {
      await server.close();
      await redis.stop();
    }
  });

  it("answers Unavailable when MySQL is unreachable", async () => {
    const port = await freePort();
    const server = await startInProcess(testConfig({ store: "mysql", mysql: { url: `mysql://root@127.0.0.1:${port}/dora_server_test_none` }, redis: { url: SHARED_REDIS_URL, keyPrefix: `${ns.keyPrefix}nomysql:` } }));
    try {
      const error = await failure(server.kv.login({ username: "1", password: "1" }, { timeoutMs: 3000 }));
      expect(error.code).toBe(Code.Unavailable);
      expect(error.rawMessage).not.toContain(String(port));
    } finally {
      await server.close();
    }
  });

  it("serves with --workers 2 on one port", async () => {
    const config = mysqlConfigFile("workers.yaml", `${ns.keyPrefix}workers:`);
    const server = await spawnEtserver(["serve", "--config", config, "--listen", "127.0.0.1:0", "--workers", "2"]);
    const client = createClient({ address: server.address, poolSize: 4 });
    try {
      const kv = createKvServiceClient(client);
      const { token } = await kv.login({ username: "20", password: "20" });
      for (let i = 0; i < 4; i++) expect((await kv.readSecureMessage({ key: "w" }, { meta: { username: "20", token } })).status?.code).toBe(Status.KEY_NOT_EXIST);
    } finally {
      await client.close();
      expect(await server.stop()).toBe(0);
    }
  });
});

describe("mutual TLS", () => {
  const certs = path.join(tmp, "certs");
  beforeAll(() => {
    execFileSync("bash", [MAKE_CERTS, certs], { stdio: "ignore" });
  });

  it("accepts a client certificate signed by the CA and rejects a client without one", async () => {
    const file = (name: string) => path.join(certs, name);
    const server = await spawnEtserver(["serve", "--listen", "127.0.0.1:0", "--tls", "--cert-file", file("server.pem"), "--key-file", file("server.key"), "--ca-file", file("ca.pem"), "--log-level", "error"]);
    const ca = fs.readFileSync(file("ca.pem"));
    const good = createClient({ address: server.address, tls: { ca, cert: fs.readFileSync(file("client.pem")), key: fs.readFileSync(file("client.key")) } });
    const bad = createClient({ address: server.address, tls: { ca }, timeoutMs: 3000 });
    try {
      const response = await createKvServiceClient(good).login({ username: "1", password: "1" });
      expect(response.status?.code).toBe(Status.OK);
      expect((await failure(createKvServiceClient(bad).login({ username: "1", password: "1" }))).code).toBe(Code.Unavailable);
    } finally {
      await good.close();
      await bad.close();
      await server.stop();
    }
  });

  it.each([
    ["swapped certificate and key files", { cert: "server.key", key: "server.pem" }, /^etserver: server\.certFile: \S+server\.key is not a PEM certificate \(it holds a private key: are --cert-file and --key-file swapped\?\)\n$/],
    ["a key that is not the certificate's", { cert: "server.pem", key: "client.key" }, /^etserver: server\.keyFile: \S+client\.key does not belong to the certificate in \S+server\.pem\n$/],
    ["a CA file that holds a key", { cert: "server.pem", key: "server.key", ca: "ca.key" }, /^etserver: server\.caFile: \S+ca\.key is not a PEM certificate \(it holds a private key\)\n$/],
  ])("names the file and exits 1 for %s", async (_what, files: { cert: string; key: string; ca?: string }, message) => {
    const file = (name: string) => path.join(certs, name);
    const result = await runEtserver(["serve", "--listen", "127.0.0.1:0", "--tls", "--cert-file", file(files.cert), "--key-file", file(files.key), "--ca-file", file(files.ca ?? "ca.pem")]);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toMatch(message);
  });

  it("names a missing certificate file and exits 1", async () => {
    const result = await runEtserver(["serve", "--listen", "127.0.0.1:0", "--tls", "--cert-file", path.join(tmp, "nope.pem")]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/server.certFile: cannot read .*nope.pem/);
  });
});

describe("command line", () => {
  it("prints the real port for --listen 127.0.0.1:0 and stops on SIGTERM with exit code 0", async () => {
    const server = await spawnEtserver(["--listen", "127.0.0.1:0", "--log-level", "error"]);
    expect(server.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(await server.stop()).toBe(0);
  });

  const configErrors: [string, string[], RegExp, string?][] = [
    ["an unknown config key", ["--config", "CONFIG"], /server\.listenAdress: unknown key/, "server:\n  listenAdress: 127.0.0.1:0\n"],
    ["a bad value", ["--listen", "127.0.0.1:99999"], /--listen: expected HOST:PORT/],
    ["quota.source mysql with the memory store", ["--config", "CONFIG"], /quota\.source: "mysql" needs store: mysql/, "quota: { source: mysql }\n"],
    ["--workers 2 with the memory store", ["--workers", "2"], /--workers: 2 workers need store: mysql/],
    ["a bad --store", ["--store", "postgres"], /--store: /],
  ];
  for (const [what, args, message, yaml] of configErrors) {
    it(`stops with one line on stderr and exit code 1 for ${what}`, async () => {
      const file = path.join(tmp, `bad-${Math.random().toString(36).slice(2)}.yaml`);
      if (yaml !== undefined) fs.writeFileSync(file, yaml);
      const result = await runEtserver(["serve", ...args.map((a) => (a === "CONFIG" ? file : a))]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    });
  }

  it("reads ETSERVER_STORE and lets a flag override it", async () => {
    const result = await runEtserver(["serve", "--workers", "2"], { env: { ETSERVER_STORE: "memory" } });
    expect(result.stderr).toMatch(/--workers: 2 workers need store: mysql/);
  });

  it("names a usage error on one line and exits 2 (more cases in main.test.ts)", async () => {
    const result = await runEtserver(["--listne", "127.0.0.1:0"]);
    expect(result).toMatchObject({ code: 2, stdout: "", stderr: "etserver: unknown argument: listne (see 'etserver --help')\n" });
  });

  it("prints --help on stdout and exits 0 (its shape is checked in main.test.ts)", async () => {
    const result = await runEtserver(["seed", "--help"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^Usage: etserver seed --users N \[options\]\n/);
  });

  it("migrate is idempotent and seed adds nothing twice, through the bin", async () => {
    const env = { ETSERVER_MYSQL_URL: ns.mysqlUrl };
    for (let i = 0; i < 2; i++) {
      const result = await runEtserver(["migrate"], { env });
      expect(result).toMatchObject({ code: 0 });
      expect(result.stdout).toContain(`migrated database ${ns.database}`);
    }
    const seeded = await runEtserver(["seed", "--users", "25"], { env });
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toMatch(/seeded users 1\.\.25 in .* rows\/s\): 5 created, 20 already existed/);
    expect((await runEtserver(["seed", "--users", "25"], { env })).stdout).toMatch(/0 created, 25 already existed/);
  });
});

describe("stores at startup (SPEC §6: misconfigured stops startup, down is retried)", () => {
  const env = (mysqlUrl: string, redisUrl = SHARED_REDIS_URL) => ({ ETSERVER_STORE: "mysql", ETSERVER_MYSQL_URL: mysqlUrl, ETSERVER_REDIS_URL: redisUrl, ETSERVER_LOG_LEVEL: "warn" });
  const empty = `${ns.database}_empty`;
  beforeAll(async () => {
    const connection = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root" });
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${empty}\``);
    await connection.end();
  });
  afterAll(() => dropTestDatabase(empty));

  it.each([
    [
      "a wrong MySQL password",
      () => `mysql://root:not-the-password@127.0.0.1:3306/${ns.database}`,
      /^etserver: mysql at 127\.0\.0\.1:3306 refused user root \(access denied\): fix the user and password in mysql\.url or ETSERVER_MYSQL_URL\n$/,
    ],
    ["an unknown database", () => `mysql://root@127.0.0.1:3306/${ns.database}_absent`, /^etserver: mysql at 127\.0\.0\.1:3306 has no database \w+_absent: create it with 'etserver migrate'/],
    ["missing tables", () => `mysql://root@127.0.0.1:3306/${empty}`, /^etserver: mysql at 127\.0\.0\.1:3306: database \w+_empty has no table account: create the tables with 'etserver migrate'\n$/],
  ])("stops with one line naming the store and the fix, exit 1, for %s", async (_what, url, message) => {
    const result = await runEtserver(["serve", "--listen", "127.0.0.1:0"], { env: env(url()) });
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toContain("not-the-password");
  });

  it("serves when Redis answers late: logs it once with its address, answers Unavailable meanwhile, then serves by itself", async () => {
    const port = await freePort();
    const redis = new PrivateRedis(port);
    const server = await spawnEtserver(["serve", "--listen", "127.0.0.1:0", "--log-level", "info"], { env: env(ns.mysqlUrl, `redis://127.0.0.1:${port}/0`) });
    const client = createClient({ address: server.address, timeoutMs: 3000 });
    try {
      const kv = createKvServiceClient(client);
      expect((await failure(kv.login({ username: "7", password: "7" }))).code).toBe(Code.Unavailable);
      await redis.start();
      const token = await eventually(async () => {
        const response = await kv.login({ username: "7", password: "7" });
        if (response.token === "") throw new Error("no token");
        return response.token;
      });
      await kv.writeSecureMessage({ key: "late", value: "v" }, { meta: { username: "7", token } });
      expect((await kv.readSecureMessage({ key: "late" }, { meta: { username: "7", token } })).value).toBe("v");
      const lines = server.stderr().trimEnd().split("\n");
      expect(lines.filter((l) => l.includes(`redis at 127.0.0.1:${port} does not answer`))).toHaveLength(1);
      expect(lines.filter((l) => l.includes(`redis at 127.0.0.1:${port} answers again`))).toHaveLength(1);
      expect(server.stderr()).not.toMatch(/mysql at/);
    } finally {
      await client.close();
      await server.stop();
      await redis.stop();
    }
  });

  it("serves while MySQL does not answer: logs it once with its address and answers Unavailable", async () => {
    const port = await freePort();
    const server = await spawnEtserver(["serve", "--listen", "127.0.0.1:0"], { env: env(`mysql://root@127.0.0.1:${port}/${ns.database}`) });
    const client = createClient({ address: server.address, timeoutMs: 3000 });
    try {
      expect((await failure(createKvServiceClient(client).login({ username: "7", password: "7" }))).code).toBe(Code.Unavailable);
      const lines = server.stderr().trimEnd().split("\n");
      expect(lines.filter((l) => l.includes(`mysql at 127.0.0.1:${port} does not answer yet`))).toHaveLength(1);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe("a dora v2 peer speaking raw bytes", () => {
  it("gets SPEC §6 answers for bare and qualified method names", async () => {
    const server = await startInProcess(testConfig({ memory: { users: 100 } }));
    const peer = await RawDoraPeer.connect(server.address);
    try {
      const wrong = decodePkg(await peer.call(1, encodePkg({ seq: 1, method: "Login" }, encodeStrings({ 1: "42", 2: "nope" }))));
      expect(wrong.meta["dora-status"] ?? "0").toBe("0");
      expect(decodeStatusAndString(wrong.payload).code).toBe(1000);

      const login = decodePkg(await peer.call(3, encodePkg({ seq: 7, method: "Login" }, encodeStrings({ 1: "42", 2: "42" }))));
      expect(login.seq).toBe(7n);
      expect(login.method).toBe("Login");
      expect(login.serializeType).toBe("proto");
      expect(login.meta["dora-status"] ?? "0").toBe("0");
      const token = decodeStatusAndString(login.payload).text;
      expect(token).toMatch(/^[0-9a-f-]{36}$/);

      const meta = { username: "42", token };
      const missing = decodePkg(await peer.call(5, encodePkg({ seq: 8, method: "ReadSecureMessage", meta }, encodeStrings({ 1: "k" }))));
      expect(decodeStatusAndString(missing.payload).code).toBe(1001);

      const write = decodePkg(await peer.call(7, encodePkg({ seq: 9, method: "/kv.v1.KvService/WriteSecureMessage", meta }, encodeStrings({ 1: "k", 2: "v" }))));
      expect(write.meta["dora-status"] ?? "0").toBe("0");
      expect(write.method).toBe("/kv.v1.KvService/WriteSecureMessage");

      const read = decodePkg(await peer.call(9, encodePkg({ seq: 10, method: "ReadSecureMessage", meta }, encodeStrings({ 1: "k" }))));
      expect(decodeStatusAndString(read.payload)).toMatchObject({ code: 0, text: "v" });

      const noToken = decodePkg(await peer.call(11, encodePkg({ seq: 11, method: "ReadSecureMessage", meta: { username: "42" } }, encodeStrings({ 1: "k" }))));
      expect(noToken.meta["dora-status"]).toBe(String(Code.BadRequest));
      const badToken = decodePkg(await peer.call(13, encodePkg({ seq: 12, method: "ReadSecureMessage", meta: { username: "42", token: "" } }, encodeStrings({ 1: "k" }))));
      expect(badToken.meta["dora-status"]).toBe(String(Code.Unauthenticated));
    } finally {
      peer.close();
      await server.close();
    }
  });
});
