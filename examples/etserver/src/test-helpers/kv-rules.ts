import { Code, DoraError } from "@dora/runtime";
import { Code as Status } from "@dora/tiger/kv/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EtserverConfig } from "../infra/config/etserver-config.js";
import { eventually, startInProcess, type InProcessServer } from "./etserver.js";
import { ManualClock } from "./manual-clock.js";

/** How a store-specific test file prepares one server's configuration. */
export interface RuleSuiteStore {
  /** Label in test names, e.g. "memory". */
  readonly label: string;
  /**
   * Whose clock refills the token buckets: etserver's (the memory store, so a
   * test can drive it with a ManualClock) or Redis's (`TIME` in the Lua script).
   */
  readonly bucketClock: "etserver" | "redis";
  /** Prepares the store (database, seeded users 1..30) and returns a config factory. */
  setup(): Promise<{ config: (overrides?: Record<string, unknown>) => EtserverConfig; cleanup(): Promise<void> }>;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function codeOf(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DoraError);
    return { code: (error as DoraError).code, message: (error as DoraError).rawMessage };
  }
  throw new Error("expected the call to fail");
}

/**
 * Every rule of SPEC §6, through the generated client over loopback, against
 * one store. Users 1..30 exist with password = username.
 */
export function defineKvRuleTests(store: RuleSuiteStore): void {
  describe(`etserver rules (${store.label} store)`, () => {
    let env: Awaited<ReturnType<RuleSuiteStore["setup"]>>;
    let server: InProcessServer;

    beforeAll(async () => {
      env = await store.setup();
      // The default limits (SPEC §6): keys 1..4096 bytes, values up to 60 KiB.
      server = await startInProcess(env.config());
    });
    afterAll(async () => {
      await server?.close();
      await env?.cleanup();
    });

    async function login(user: string): Promise<string> {
      const response = await server.kv.login({ username: user, password: user });
      expect(response.status?.code).toBe(Status.OK);
      return response.token;
    }
    const meta = (username: string, token: string) => ({ meta: { username, token } });

    it("logs in with a UUID v4 token; a wrong password and an unknown user get the same status 1000", async () => {
      expect(await login("3")).toMatch(UUID_V4);
      const wrong = await server.kv.login({ username: "3", password: "4" });
      const unknown = await server.kv.login({ username: "no-such-user", password: "x" });
      expect(wrong.status?.code).toBe(Status.INCORRECT_USERNAME_OR_PASSWORD);
      expect(wrong.status?.code).toBe(1000);
      expect(unknown.status).toEqual(wrong.status);
      expect(wrong.token).toBe("");
    });

    it("writes and reads back; a missing key is status 1001", async () => {
      const token = await login("25"); // read quota 78/s → burst 7
      expect(await server.kv.writeSecureMessage({ key: "a", value: "m" }, meta("25", token))).toMatchObject({ key: "a", value: "m" });
      const read = await server.kv.readSecureMessage({ key: "a" }, meta("25", token));
      expect(read.status?.code).toBe(Status.OK);
      expect(read.value).toBe("m");
      const missing = await server.kv.readSecureMessage({ key: "never-written" }, meta("25", token));
      expect(missing.status?.code).toBe(Status.KEY_NOT_EXIST);
      expect(missing.status?.code).toBe(1001);
    });

    it("namespaces keys per user", async () => {
      const t5 = await login("5");
      const t6 = await login("6");
      await server.kv.writeSecureMessage({ key: "shared", value: "five" }, meta("5", t5));
      expect((await server.kv.readSecureMessage({ key: "shared" }, meta("6", t6))).status?.code).toBe(Status.KEY_NOT_EXIST);
      // User 6's token does not open user 5's namespace either.
      expect((await codeOf(server.kv.readSecureMessage({ key: "shared" }, meta("5", t6)))).code).toBe(Code.Unauthenticated);
    });

    it("needs username and token metadata: a missing key is BadRequest", async () => {
      const token = await login("7");
      expect((await codeOf(server.kv.readSecureMessage({ key: "a" }, { meta: { token } }))).code).toBe(Code.BadRequest);
      expect((await codeOf(server.kv.readSecureMessage({ key: "a" }, { meta: { username: "7" } }))).code).toBe(Code.BadRequest);
      expect((await codeOf(server.kv.writeSecureMessage({ key: "a", value: "v" }, {}))).code).toBe(Code.BadRequest);
    });

    it("answers Unauthenticated for an empty token, no session, and a wrong token", async () => {
      expect((await codeOf(server.kv.readSecureMessage({ key: "a" }, meta("8", ""))))).toMatchObject({ code: Code.Unauthenticated });
      expect((await codeOf(server.kv.readSecureMessage({ key: "a" }, meta("8", "00000000-0000-4000-8000-000000000000"))))).toMatchObject({ code: Code.Unauthenticated });
      const token = await login("8");
      const wrong = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
      expect((await codeOf(server.kv.readSecureMessage({ key: "a" }, meta("8", wrong)))).code).toBe(Code.Unauthenticated);
      expect((await codeOf(server.kv.writeSecureMessage({ key: "a", value: "v" }, meta("8", ""))))).toMatchObject({ code: Code.Unauthenticated });
    });

    it("a new login replaces the old token; a failed login keeps the session", async () => {
      const first = await login("9");
      const second = await login("9");
      expect(second).not.toBe(first);
      expect((await codeOf(server.kv.readSecureMessage({ key: "a" }, meta("9", first)))).code).toBe(Code.Unauthenticated);
      expect((await server.kv.login({ username: "9", password: "wrong" })).status?.code).toBe(1000);
      expect((await server.kv.readSecureMessage({ key: "a" }, meta("9", second))).status?.code).toBe(Status.KEY_NOT_EXIST);
    });

    it("checks key and value sizes: key 1..4096 bytes, value up to 60 KiB", async () => {
      // Write quotas 31/s and 30/s: a burst of 3 each, so neither user waits for a refill.
      const refused = "28";
      const accepted = "27";
      const tokens: Record<string, string> = { [refused]: await login(refused), [accepted]: await login(accepted) };
      const write = (user: string, key: string, value: string) => server.kv.writeSecureMessage({ key, value }, meta(user, tokens[user] ?? ""));
      expect((await codeOf(write(refused, "", "v"))).code).toBe(Code.BadRequest);
      expect(await codeOf(write(refused, "k".repeat(4097), "v"))).toEqual({ code: Code.BadRequest, message: "key is 4097 bytes, more than 4096" });
      expect((await codeOf(server.kv.readSecureMessage({ key: "k".repeat(4097) }, meta(refused, tokens[refused] ?? "")))).code).toBe(Code.BadRequest);
      expect(await codeOf(write(refused, "big", "v".repeat(61_441)))).toEqual({ code: Code.BadRequest, message: "value is 61441 bytes, more than 61440" });
      // The original etclient's 2000-byte key with the largest value.
      await expect(write(accepted, "c".repeat(2000), "v".repeat(61_440))).resolves.toMatchObject({ key: "c".repeat(2000) });
      expect((await server.kv.readSecureMessage({ key: "c".repeat(2000) }, meta(accepted, tokens[accepted] ?? ""))).value).toHaveLength(61_440);
      await expect(write(accepted, "k".repeat(4096), "v")).resolves.toMatchObject({ key: "k".repeat(4096) });
    });

    it("rate-limits each user after authentication, reads and writes separately", async () => {
      // User 1: write quota 4/s → burst 1; read quota 6/s → burst 1.
      const token = await login("1");
      await server.kv.writeSecureMessage({ key: "r", value: "1" }, meta("1", token));
      expect(await codeOf(server.kv.writeSecureMessage({ key: "r", value: "2" }, meta("1", token)))).toEqual({ code: Code.Unavailable, message: "rate limit" });
      await server.kv.readSecureMessage({ key: "r" }, meta("1", token));
      expect(await codeOf(server.kv.readSecureMessage({ key: "r" }, meta("1", token)))).toEqual({ code: Code.Unavailable, message: "rate limit" });
      // Another user's bucket is untouched.
      const other = await login("2");
      await expect(server.kv.writeSecureMessage({ key: "r", value: "x" }, meta("2", other))).resolves.toBeDefined();
    });

    it("a request that fails authentication spends no rate-limit tokens", async () => {
      const token = await login("10"); // write quota 13/s → burst 1
      for (let i = 0; i < 5; i++) expect((await codeOf(server.kv.writeSecureMessage({ key: "a", value: "v" }, meta("10", "bad")))).code).toBe(Code.Unauthenticated);
      await expect(server.kv.writeSecureMessage({ key: "a", value: "v" }, meta("10", token))).resolves.toBeDefined();
    });

    it.runIf(store.bucketClock === "etserver")("refills the bucket at the quota rate, on etserver's clock", async () => {
      const clock = new ManualClock();
      const timed = await startInProcess(env.config(), { clock });
      try {
        const { token } = await timed.kv.login({ username: "11", password: "11" }); // write quota 14/s → burst 1, one token per 71.4 ms
        const write = (value: string) => timed.kv.writeSecureMessage({ key: "a", value }, meta("11", token));
        await write("1");
        expect(await codeOf(write("2"))).toEqual({ code: Code.Unavailable, message: "rate limit" });
        clock.advance(71);
        expect(await codeOf(write("3"))).toEqual({ code: Code.Unavailable, message: "rate limit" });
        clock.advance(1);
        await expect(write("4")).resolves.toBeDefined();
      } finally {
        await timed.close();
      }
    });

    it.runIf(store.bucketClock === "redis")("refills the bucket on Redis's clock", async () => {
      const token = await login("11"); // write quota 14/s → burst 1, one token per 71.4 ms
      await server.kv.writeSecureMessage({ key: "a", value: "1" }, meta("11", token));
      expect((await codeOf(server.kv.writeSecureMessage({ key: "a", value: "2" }, meta("11", token)))).code).toBe(Code.Unavailable);
      await expect(eventually(() => server.kv.writeSecureMessage({ key: "a", value: "3" }, meta("11", token)))).resolves.toBeDefined();
    });

    it("expires sessions after session.ttlSeconds", async () => {
      const clock = new ManualClock();
      const short = await startInProcess(env.config({ session: { ttlSeconds: 60 } }), { clock });
      try {
        const response = await short.kv.login({ username: "12", password: "12" });
        clock.advance(59_999);
        await expect(short.kv.readSecureMessage({ key: "a" }, meta("12", response.token))).resolves.toBeDefined();
        clock.advance(1);
        expect((await codeOf(short.kv.readSecureMessage({ key: "a" }, meta("12", response.token)))).code).toBe(Code.Unauthenticated);
      } finally {
        await short.close();
      }
    });

    it("limits failed logins per username and per peer; a failed login never ends a session", async () => {
      const limited = await startInProcess(env.config({ loginLimiter: { maxFailuresPerUser: 3, maxFailuresPerPeer: 6, windowSeconds: 60 } }));
      try {
        const ok = await limited.kv.login({ username: "13", password: "13" });
        for (let i = 0; i < 3; i++) expect((await limited.kv.login({ username: "13", password: "bad" })).status?.code).toBe(1000);
        expect(await codeOf(limited.kv.login({ username: "13", password: "13" }))).toEqual({ code: Code.Unavailable, message: "too many failed logins" });
        await expect(limited.kv.readSecureMessage({ key: "a" }, meta("13", ok.token))).resolves.toBeDefined();
        // Three more failures for other users bring this peer to 6.
        for (const user of ["14", "15", "16"]) expect((await limited.kv.login({ username: user, password: "bad" })).status?.code).toBe(1000);
        expect(await codeOf(limited.kv.login({ username: "17", password: "17" }))).toEqual({ code: Code.Unavailable, message: "too many failed logins" });
      } finally {
        await limited.close();
      }
    });

    it("serves a fixed quota when configured", async () => {
      const fixed = await startInProcess(env.config({ quota: { source: "fixed", fixed: 20 } })); // burst 2
      try {
        const { token } = await fixed.kv.login({ username: "29", password: "29" });
        await fixed.kv.writeSecureMessage({ key: "a", value: "1" }, meta("29", token));
        await fixed.kv.writeSecureMessage({ key: "a", value: "2" }, meta("29", token));
        expect((await codeOf(fixed.kv.writeSecureMessage({ key: "a", value: "3" }, meta("29", token)))).message).toBe("rate limit");
      } finally {
        await fixed.close();
      }
    });
  });
}
