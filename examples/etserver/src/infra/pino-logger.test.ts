import { randomUUID } from "node:crypto";
import { Code, createClient, createServer } from "@dora/runtime";
import { createKvServiceClient, registerKvService, type KvService } from "@dora/tiger/kv/v1";
import type { Pool } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureOf, startInProcess, testConfig } from "../test-helpers/etserver.js";
import { freePort } from "../test-helpers/processes.js";
import { dropTestDatabase, PrivateRedis, testNamespace } from "../test-helpers/stores.js";
import { migrate } from "./mysql/migrate.js";
import { createMysqlPool } from "./mysql/mysql-pool.js";
import { hashPassword } from "./password-hash.js";
import { createPinoLogger, serializeError } from "./pino-logger.js";

/** A pino destination that keeps every record in memory. */
function capture(): { write(line: string): void; readonly text: () => string; readonly records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    write: (line: string) => void lines.push(line),
    text: () => lines.join(""),
    records: () => lines.join("").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("etserver's pino log", () => {
  it("logs an error a handler throws with its name, message and stack, and sends the client none of it", async () => {
    const sink = capture();
    const server = createServer({ logger: createPinoLogger("info", sink) });
    const failing = {
      login: () => {
        throw new RangeError("the handler broke: detail-4711");
      },
    } as unknown as KvService;
    registerKvService(server, failing);
    const { host, port } = await server.listen({ host: "127.0.0.1", port: 0 });
    const client = createClient({ address: `${host}:${port}` });
    try {
      const error = await failureOf(createKvServiceClient(client).login({ username: "u", password: "p" }));
      expect(error.code).toBe(Code.Unknown);
      expect(error.rawMessage).not.toContain("detail-4711");
    } finally {
      await client.close();
      await server.close();
    }
    const logged = sink
      .records()
      .flatMap((record) => Object.values(record))
      .find((value): value is Record<string, unknown> => typeof value === "object" && value !== null && "stack" in value);
    expect(logged).toBeDefined();
    expect(logged?.["name"]).toBe("RangeError");
    expect(logged?.["message"]).toBe("the handler broke: detail-4711");
    expect(logged?.["stack"]).toMatch(/^RangeError: the handler broke: detail-4711\n\s+at /);
    expect(logged?.["stack"]).toContain("pino-logger.test.ts");
  });

  it("keeps an error given as text as that text: a connection's close reason, a TLS handshake failure", () => {
    const sink = capture();
    const logger = createPinoLogger("debug", sink);
    logger.debug("connection closed", { peer: "127.0.0.1", error: "a frame was not completed within 300 ms (12 bytes received)" });
    logger.debug("tls handshake failed", { err: "wrong version number" });
    expect(sink.records().map((r) => [r["msg"], r["error"] ?? r["err"]])).toEqual([
      ["connection closed", "a frame was not completed within 300 ms (12 bytes received)"],
      ["tls handshake failed", "wrong version number"],
    ]);
  });

  it("serializes an error's cause chain and code but not the request data a library attaches to it", () => {
    const token = randomUUID();
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const error = Object.assign(new Error("session store failed", { cause }), { command: { name: "set", args: ["dora:s:7", token] } });
    const logged = serializeError(error);
    expect(logged).toMatchObject({ name: "Error", type: "Error", message: "session store failed: connect ECONNREFUSED 127.0.0.1:1" });
    expect(logged.stack).toContain("caused by: Error: connect ECONNREFUSED");
    expect(JSON.stringify(logged)).not.toContain(token);
    expect(serializeError(cause).code).toBe("ECONNREFUSED");
  });
});

describe("no password or token in etserver's log (debug level, MySQL + private Redis)", () => {
  const ns = testNamespace();
  let pool: Pool;
  let redis: PrivateRedis;
  const password = `pw-${randomUUID()}`;
  const wrongPassword = `wrong-${randomUUID()}`;

  beforeAll(async () => {
    await migrate(ns.mysqlUrl);
    pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 2 });
    await pool.query("INSERT INTO account (username, password_hash) VALUES (?, ?)", ["alice", await hashPassword(password)]);
    redis = new PrivateRedis(await freePort());
    await redis.start();
  });
  afterAll(async () => {
    await pool?.end();
    await redis?.stop();
    await dropTestDatabase(ns.database);
  });

  it("logs store failures and handler details, never a password or a token", async () => {
    const sink = capture();
    const config = testConfig({
      store: "mysql",
      log: { level: "debug" },
      mysql: { url: ns.mysqlUrl, poolSize: 4 },
      redis: { url: redis.url, keyPrefix: "dora-test-log:", commandTimeoutMs: 300 },
      loginLimiter: { maxFailuresPerUser: 2, maxFailuresPerPeer: 100, windowSeconds: 60 },
    });
    const server = await startInProcess(config, { logger: createPinoLogger("debug", sink) });
    const secrets = [password, wrongPassword];
    try {
      const kv = server.kv;
      expect((await kv.login({ username: "alice", password: wrongPassword })).status?.code).toBe(1000);
      const { token } = await kv.login({ username: "alice", password });
      secrets.push(token);
      const meta = { meta: { username: "alice", token } };
      await kv.writeSecureMessage({ key: "k", value: "v" }, meta);
      const wrongToken = randomUUID();
      secrets.push(wrongToken);
      expect((await failureOf(kv.readSecureMessage({ key: "k" }, { meta: { username: "alice", token: wrongToken } }))).code).toBe(Code.Unauthenticated);
      expect((await kv.login({ username: "alice", password: wrongPassword })).status?.code).toBe(1000);
      expect((await failureOf(kv.login({ username: "alice", password }))).rawMessage).toBe("too many failed logins");

      // The store goes away: the failures are logged with their causes.
      redis.pause();
      expect((await failureOf(kv.readSecureMessage({ key: "k" }, { ...meta, timeoutMs: 1000 }))).code).toBe(Code.Unavailable);
      redis.resume();
      await redis.stop();
      expect((await failureOf(kv.writeSecureMessage({ key: "k", value: "v2" }, { ...meta, timeoutMs: 1000 }))).code).toBe(Code.Unavailable);
      expect((await failureOf(kv.login({ username: "alice", password }, { timeoutMs: 1000 }))).code).toBe(Code.Unavailable);
    } finally {
      await server.close();
    }
    const text = sink.text();
    expect(text).toContain("store unavailable");
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
