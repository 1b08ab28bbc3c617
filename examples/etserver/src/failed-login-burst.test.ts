import { Code } from "@dora/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EtserverConfig } from "./infra/config/etserver-config.js";
import { migrate } from "./infra/mysql/migrate.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { seedUsers } from "./infra/mysql/seed.js";
import { startInProcess, testConfig } from "./test-helpers/etserver.js";
import { decodePkg, decodeStatusAndString, encodePkg, encodeStrings, RawDoraPeer } from "./test-helpers/raw-dora-v2.js";
import { deleteTestKeys, dropTestDatabase, SHARED_REDIS_URL, testNamespace } from "./test-helpers/stores.js";

/**
 * SPEC §6 failed-login limits under bursts: a burst written in one TCP
 * write, or spread over several connections at once, is limited exactly
 * like the same attempts made one after another.
 */

/** What one Login answered: its business status, the dora error, or a token. */
type Answer = { kind: "wrong" } | { kind: "ok"; token: string } | { kind: "refused" } | { kind: "other"; detail: string };

/** A Login request; a generous deadline, since attempts that wait for others being checked with scrypt can take seconds on a loaded machine. */
function loginPkg(seq: number, username: string, password: string): Uint8Array {
  return encodePkg({ seq, method: "/kv.v1.KvService/Login", meta: { "dora-timeout": "25000" } }, encodeStrings({ 1: username, 2: password }));
}

function answerOf(payload: Buffer): Answer {
  const pkg = decodePkg(payload);
  const status = pkg.meta["dora-status"] ?? "0";
  if (status === String(Code.Unavailable) && pkg.meta["dora-message"] === "too many failed logins") return { kind: "refused" };
  if (status !== "0") return { kind: "other", detail: `${status} ${pkg.meta["dora-message"]}` };
  const body = decodeStatusAndString(pkg.payload);
  if (body.code === 1000) return { kind: "wrong" };
  if (body.code === 0 && body.text !== "") return { kind: "ok", token: body.text };
  return { kind: "other", detail: `status ${body.code}` };
}

function tally(answers: readonly Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) counts[a.kind] = (counts[a.kind] ?? 0) + 1;
  return counts;
}

interface BurstStore {
  readonly label: string;
  /** Users 1..200 exist with password = username; each call gives a server with fresh limiter counts. */
  config(overrides?: Record<string, unknown>): EtserverConfig;
}

function defineBurstTests(setup: () => Promise<{ store: BurstStore; cleanup(): Promise<void> }>, label: string): void {
  describe(`failed-login limits under bursts (${label} store)`, () => {
    let store: BurstStore;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      const prepared = await setup();
      store = prepared.store;
      cleanup = prepared.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it("300 wrong passwords then the right one, pipelined in one TCP write: 10 answered 'wrong', the other 291 (the right one too) refused", async () => {
      const server = await startInProcess(store.config());
      const peer = await RawDoraPeer.connect(server.address);
      try {
        const pkgs = Array.from({ length: 300 }, (_, i) => loginPkg(i + 1, "42", `wrong-${i}`));
        pkgs.push(loginPkg(301, "42", "42"));
        const answers = (await peer.pipeline(1, pkgs)).map(answerOf);
        expect(tally(answers)).toEqual({ wrong: 10, refused: 291 });
        expect(answers.at(-1)).toEqual({ kind: "refused" });
        // A later, sequential attempt with the right password is still refused.
        expect(answerOf(await peer.call(1001, loginPkg(400, "42", "42")))).toEqual({ kind: "refused" });
      } finally {
        peer.close();
        await server.close();
      }
    });

    it("4 connections × 250 wrong passwords at once, then the right one: 10 answered 'wrong' in all, the rest refused", async () => {
      const server = await startInProcess(store.config());
      const peers = await Promise.all(Array.from({ length: 4 }, () => RawDoraPeer.connect(server.address)));
      try {
        const bursts = peers.map((peer, p) => peer.pipeline(1, Array.from({ length: 250 }, (_, i) => loginPkg(p * 1000 + i + 1, "43", `wrong-${p}-${i}`))));
        const answers = (await Promise.all(bursts)).flat().map(answerOf);
        expect(tally(answers)).toEqual({ wrong: 10, refused: 990 });
        expect(answerOf(await peers[0]!.call(9001, loginPkg(9001, "43", "43")))).toEqual({ kind: "refused" });
      } finally {
        for (const peer of peers) peer.close();
        await server.close();
      }
    });

    it("a pipelined burst of wrong passwords for 150 different users from one peer: exactly 100 answered 'wrong', 50 refused, then a right password refused", async () => {
      const server = await startInProcess(store.config());
      const peer = await RawDoraPeer.connect(server.address);
      try {
        const answers = (await peer.pipeline(1, Array.from({ length: 150 }, (_, i) => loginPkg(i + 1, String(i + 1), "wrong")))).map(answerOf);
        expect(tally(answers)).toEqual({ wrong: 100, refused: 50 });
        expect(answerOf(await peer.call(1001, loginPkg(500, "160", "160")))).toEqual({ kind: "refused" });
      } finally {
        peer.close();
        await server.close();
      }
    });

    it("right passwords at once are not refused by attempts still in flight: 6 users (peer limit 3), one user 3 times (user limit 2); then wrong, wrong, right: the right one refused", async () => {
      // Small numbers: on MySQL each first login of a seeded user also computes its regular scrypt hash.
      const server = await startInProcess(store.config({ loginLimiter: { maxFailuresPerUser: 2, maxFailuresPerPeer: 3, windowSeconds: 300 } }));
      const peer = await RawDoraPeer.connect(server.address);
      try {
        const users = (await peer.pipeline(1, Array.from({ length: 6 }, (_, i) => loginPkg(i + 1, String(i + 101), String(i + 101))))).map(answerOf);
        expect(tally(users)).toEqual({ ok: 6 });
        const sameUser = (await peer.pipeline(101, Array.from({ length: 3 }, (_, i) => loginPkg(i + 10, "151", "151")))).map(answerOf);
        expect(tally(sameUser)).toEqual({ ok: 3 });
        // As one after another: two failures reach the user's limit of 2, so the right password that follows is refused.
        const mixed = (await peer.pipeline(201, [loginPkg(20, "152", "x"), loginPkg(21, "152", "y"), loginPkg(22, "152", "152")])).map(answerOf);
        expect(mixed).toEqual([{ kind: "wrong" }, { kind: "wrong" }, { kind: "refused" }]);
      } finally {
        peer.close();
        await server.close();
      }
    });

    it("a refused or failed burst never ends the user's existing session", async () => {
      const server = await startInProcess(store.config());
      const peer = await RawDoraPeer.connect(server.address);
      try {
        const login = await server.kv.login({ username: "44", password: "44" }, { timeoutMs: 25_000 });
        expect(login.token).not.toBe("");
        const answers = (await peer.pipeline(1, Array.from({ length: 50 }, (_, i) => loginPkg(i + 1, "44", `bad-${i}`)))).map(answerOf);
        expect(tally(answers)).toEqual({ wrong: 10, refused: 40 });
        const read = await server.kv.readSecureMessage({ key: "k" }, { meta: { username: "44", token: login.token }, timeoutMs: 25_000 });
        expect(read.status?.code).toBe(1001);
      } finally {
        peer.close();
        await server.close();
      }
    });
  });
}

defineBurstTests(
  () =>
    Promise.resolve({
      store: { label: "memory", config: (overrides = {}) => testConfig({ store: "memory", memory: { users: 200 }, ...overrides }) },
      cleanup: () => Promise.resolve(),
    }),
  "memory",
);

defineBurstTests(async () => {
  const ns = testNamespace();
  await migrate(ns.mysqlUrl);
  const pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 2 });
  await seedUsers(pool, { users: 200 });
  await pool.end();
  let servers = 0;
  return {
    store: {
      label: "mysql",
      config: (overrides = {}) =>
        testConfig({
          store: "mysql",
          mysql: { url: ns.mysqlUrl, poolSize: 10 },
          redis: { url: SHARED_REDIS_URL, keyPrefix: `${ns.keyPrefix}${++servers}:` },
          ...overrides,
        }),
    },
    async cleanup() {
      await dropTestDatabase(ns.database);
      await deleteTestKeys(ns.keyPrefix);
    },
  };
}, "MySQL + Redis");
