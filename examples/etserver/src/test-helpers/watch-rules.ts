import { Code, DoraError } from "@dora/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startInProcess, type InProcessServer } from "./etserver.js";
import { ManualClock } from "./manual-clock.js";
import type { RuleSuiteStore } from "./kv-rules.js";

type Watch = AsyncIterator<{ key: string; value: string }>;

/** The next value of a watch, or the DoraError it ends with (`{ code, message }`), or "done". */
async function nextOf(watch: Watch): Promise<string | "done" | { code: number; message: string }> {
  try {
    const result = await watch.next();
    return result.done === true ? "done" : result.value.value;
  } catch (error) {
    if (!(error instanceof DoraError)) throw error;
    return { code: error.code, message: error.rawMessage };
  }
}

/**
 * WatchSecureMessage end to end, through the generated client over loopback,
 * against one store (users 1..30 exist with password = username): what a
 * watcher receives, the same auth and limits as Read, the bounds, and
 * shutdown. Writes go through a second client, as another user of the
 * service would make them.
 */
export function defineWatchRuleTests(store: RuleSuiteStore): void {
  describe(`etserver watches (${store.label} store)`, () => {
    let env: Awaited<ReturnType<RuleSuiteStore["setup"]>>;
    let server: InProcessServer;
    let writer: InProcessServer["kv"];

    beforeAll(async () => {
      env = await store.setup();
      // A fixed quota large enough that the writes of these tests are never rate-limited.
      server = await startInProcess(env.config({ quota: { source: "fixed", fixed: 100_000 }, watch: { maxPerUser: 3 } }));
      writer = server.client().kv;
    });
    afterAll(async () => {
      await server?.close();
      await env?.cleanup();
    });

    async function login(on: InProcessServer, user: string): Promise<{ meta: Record<string, string> }> {
      const { token } = await on.kv.login({ username: user, password: user });
      return { meta: { username: user, token } };
    }

    /** Opens a watch and waits until the server holds it, so that every later write reaches it. */
    async function watch(on: InProcessServer, key: string, options: { meta: Record<string, string> }): Promise<{ watch: Watch; first: ReturnType<typeof nextOf> }> {
      const before = on.openWatches();
      const it = on.kv.watchSecureMessage({ key }, options)[Symbol.asyncIterator]();
      // The call opens with the first read, which then waits for the first value.
      const first = nextOf(it);
      await eventually(() => (on.openWatches() > before ? Promise.resolve() : Promise.reject(new Error("watch not open yet"))));
      return { watch: it, first };
    }

    it("streams each value written to the key after the watch opened, in order, and nothing of other keys or users", async () => {
      const me = await login(server, "20");
      const other = await login(server, "21");
      await writer.writeSecureMessage({ key: "w", value: "before" }, me);
      const { watch: w, first } = await watch(server, "w", me);
      try {
        await writer.writeSecureMessage({ key: "x", value: "other key" }, me);
        await writer.writeSecureMessage({ key: "w", value: "other user" }, other);
        for (const value of ["m", "n", "o"]) await writer.writeSecureMessage({ key: "w", value }, me);
        expect([await first, await nextOf(w), await nextOf(w)]).toEqual(["m", "n", "o"]);
      } finally {
        // Leaving the stream cancels the watch (and lets the client close: a watch never ends by itself).
        await w.return?.();
      }
      await eventually(() => (server.openWatches() === 0 ? Promise.resolve() : Promise.reject(new Error("watch still open"))));
    });

    it("refuses a watch like a read: missing metadata is BadRequest, a bad token Unauthenticated, a bad key BadRequest", async () => {
      const me = await login(server, "22");
      const open = (key: string, meta: Record<string, string>) => nextOf(server.kv.watchSecureMessage({ key }, { meta })[Symbol.asyncIterator]());
      expect(await open("w", { username: "22" })).toEqual({ code: Code.BadRequest, message: "missing metadata: token" });
      expect(await open("w", { username: "22", token: "wrong" })).toEqual({ code: Code.Unauthenticated, message: "invalid or expired token" });
      expect(await open("w", { username: "22", token: "" })).toEqual({ code: Code.Unauthenticated, message: "invalid or expired token" });
      expect(await open("", me.meta)).toEqual({ code: Code.BadRequest, message: "key must not be empty" });
      expect(server.openWatches()).toBe(0);
    });

    it("refuses a user's watch beyond watch.maxPerUser with ResourceExhausted", async () => {
      const me = await login(server, "23");
      const open: { watch: Watch }[] = [];
      try {
        for (const key of ["a", "b", "c"]) open.push(await watch(server, key, me));
        const refused = await nextOf(server.kv.watchSecureMessage({ key: "d" }, me)[Symbol.asyncIterator]());
        expect(refused).toEqual({ code: Code.ResourceExhausted, message: "too many watches of this user (at most 3)" });
      } finally {
        for (const { watch: w } of open) await w.return?.();
      }
      await eventually(() => (server.openWatches() === 0 ? Promise.resolve() : Promise.reject(new Error("watches still open"))));
      const again = await watch(server, "d", me);
      await again.watch.return?.();
    });

    it("ends a watcher that stops reading and falls behind with ResourceExhausted, after the values it had, in order", async () => {
      const slow = await startInProcess(env.config({ quota: { source: "fixed", fixed: 100_000 }, watch: { maxQueuedMessages: 2 } }));
      try {
        const me = await login(slow, "24");
        const write = slow.client().kv;
        // Values of 30,000 bytes: the client's flow-control window (64 KiB) holds two, the watch's queue two more.
        const big = (letter: string) => letter.repeat(30_000);
        const { watch: w, first } = await watch(slow, "w", me);
        const { watch: barrier, first: barrierValue } = await watch(slow, "barrier", me);
        const letters = [..."abcdefghij"];
        for (const letter of letters) await write.writeSecureMessage({ key: "w", value: big(letter) }, me);
        // Every write above reached the server's watches before this one (one feed, in order).
        await write.writeSecureMessage({ key: "barrier", value: "x" }, me);
        expect(await barrierValue).toBe("x");
        await barrier.return?.();
        const received: string[] = [];
        let next = await first;
        while (typeof next === "string") {
          received.push(next);
          next = await nextOf(w);
        }
        expect(next).toEqual({ code: Code.ResourceExhausted, message: "watcher too slow: more than 2 values waiting" });
        expect(received.length).toBeLessThan(letters.length);
        expect(received).toEqual(letters.slice(0, received.length).map(big));
      } finally {
        await slow.close();
      }
    });

    it("spends one read token when a watch opens", async () => {
      // Quota 1/s: burst 1, and no token comes back for a second (never, on the memory store's stopped clock).
      const limited = await startInProcess(env.config({ quota: { source: "fixed", fixed: 1 } }), { clock: new ManualClock() });
      try {
        const me = await login(limited, "25");
        const { watch: w } = await watch(limited, "w", me);
        try {
          await expect(limited.kv.readSecureMessage({ key: "w" }, me)).rejects.toMatchObject({ code: Code.Unavailable, rawMessage: "rate limit" });
        } finally {
          await w.return?.();
        }
      } finally {
        await limited.close();
      }
    });

    it("ends open watches with Unavailable when the server shuts down", async () => {
      const closing = await startInProcess(env.config());
      const me = await login(closing, "26");
      const { first } = await watch(closing, "w", me);
      try {
        await closing.closeServer();
        expect(await first).toEqual({ code: Code.Unavailable, message: "server shutting down" });
      } finally {
        await closing.close();
      }
    });
  });
}
