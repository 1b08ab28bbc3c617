import { Code } from "@dora/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INVALID_TOKEN_MESSAGE } from "./app/authenticate.js";
import type { EtserverConfig } from "./infra/config/etserver-config.js";
import { migrate } from "./infra/mysql/migrate.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { seedUsers } from "./infra/mysql/seed.js";
import { ManualClock } from "./test-helpers/manual-clock.js";
import { failureOf, startInProcess, testConfig, type InProcessServer } from "./test-helpers/etserver.js";
import { deleteTestKeys, dropTestDatabase, SHARED_REDIS_URL, testNamespace } from "./test-helpers/stores.js";

async function codeAndMessage(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  const error = await failureOf(promise);
  return { code: error.code, message: error.rawMessage };
}

/**
 * SPEC §6: an empty token, no session, an expired session and a wrong token
 * all give Unauthenticated with one and the same message, on reads and on
 * writes, so a caller cannot tell whether a user has a live session.
 */
function defineTokenFailureTests(label: string, prepare: () => Promise<{ config: (o?: Record<string, unknown>) => EtserverConfig; cleanup(): Promise<void> }>): void {
  describe(`token failures (${label} store)`, () => {
    let server: InProcessServer;
    const clock = new ManualClock();
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      const prepared = await prepare();
      cleanup = prepared.cleanup;
      server = await startInProcess(prepared.config({ session: { ttlSeconds: 60 } }), { clock });
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    it("answers one message for an empty token, no session, a wrong token and an expired session, on read and write", async () => {
      const read = (username: string, token: string) => codeAndMessage(server.kv.readSecureMessage({ key: "k" }, { meta: { username, token } }));
      const write = (username: string, token: string) => codeAndMessage(server.kv.writeSecureMessage({ key: "k", value: "v" }, { meta: { username, token } }));
      const { token } = await server.kv.login({ username: "7", password: "7" });
      const wrong = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
      const seen = [
        await read("6", ""), // empty token, user without a session
        await read("7", ""), // empty token, user with a live session
        await read("6", "00000000-0000-4000-8000-000000000000"), // no session
        await read("7", wrong), // live session, wrong token
        await read("no-such-user", token), // unknown user
        await write("6", ""),
        await write("6", wrong),
        await write("7", wrong),
      ];
      // Once the 60 s session has expired, the right token reads the same.
      clock.advance(60_000);
      seen.push(await read("7", token), await write("7", token));
      for (const failure of seen) expect(failure).toEqual({ code: Code.Unauthenticated, message: INVALID_TOKEN_MESSAGE });
    });
  });
}

defineTokenFailureTests("memory", () => Promise.resolve({ config: (o = {}) => testConfig({ store: "memory", memory: { users: 10 }, ...o }), cleanup: () => Promise.resolve() }));

defineTokenFailureTests("MySQL + Redis", async () => {
  const ns = testNamespace();
  await migrate(ns.mysqlUrl);
  const pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 2 });
  await seedUsers(pool, { users: 10 });
  await pool.end();
  return {
    config: (o = {}) => testConfig({ store: "mysql", mysql: { url: ns.mysqlUrl, poolSize: 4 }, redis: { url: SHARED_REDIS_URL, keyPrefix: ns.keyPrefix }, ...o }),
    async cleanup() {
      await dropTestDatabase(ns.database);
      await deleteTestKeys(ns.keyPrefix);
    },
  };
});
