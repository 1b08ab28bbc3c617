import { Code, createInProcessClient, createServer, DoraError, silentLogger, type ContextValues } from "@dora/runtime";
import { createKvServiceClient, registerKvService } from "@dora/tiger/kv/v1";
import { describe, expect, it } from "vitest";
import { AuthenticateUseCase } from "../app/authenticate.js";
import { RateLimitUseCase } from "../app/rate-limit.js";
import { FormulaQuotaRepository } from "../domain/quota.js";
import type { BucketParams, RateLimiter } from "../domain/ratelimiter.js";
import { MemorySessionRepository } from "../infra/memory/memory-session-repository.js";
import { createPinoLogger } from "../infra/pino-logger.js";
import { InvalidRequestError, StoreUnavailableError } from "../domain/errors.js";
import { actorOf, callerOf } from "./caller.js";
import { STORE_UNAVAILABLE_MESSAGE } from "./errors.js";
import { kvInterceptors } from "./interceptors.js";

/** A limiter that records which buckets were spent. */
class RecordingLimiter implements RateLimiter {
  readonly taken: string[] = [];
  tryTake(key: string, _params: BucketParams): Promise<boolean> {
    this.taken.push(key);
    return Promise.resolve(true);
  }
}

/**
 * The KvService interceptors in front of handlers that answer "handled" (or
 * throw `fail()` when it is set) and record the caller they saw, called in process.
 */
function chain(deferAdmission = false) {
  const sessions = new MemorySessionRepository();
  const limiter = new RecordingLimiter();
  const logger = createPinoLogger("silent");
  const seen: string[] = [];
  const state: { fail?: () => Error } = {};
  const server = createServer({
    logger: silentLogger,
    interceptors: kvInterceptors({ authenticate: new AuthenticateUseCase(sessions), rateLimit: new RateLimitUseCase(new FormulaQuotaRepository(), limiter), logger, deferAdmission }),
  });
  const answer = (values: ContextValues) => {
    seen.push(callerOf(values));
    if (state.fail !== undefined) throw state.fail();
    return "handled";
  };
  registerKvService(server, {
    login: async () => ({ token: "handled" }),
    readSecureMessage: async (_req, context) => ({ value: answer(context.values) }),
    writeSecureMessage: async (_req, context) => ({ value: answer(context.values) }),
    async *watchSecureMessage(_req, context) {
      yield { value: answer(context.values) };
    },
  });
  return { sessions, limiter, seen, state, kv: createKvServiceClient(createInProcessClient(server)) };
}

async function codeOf(promise: Promise<unknown>): Promise<number> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DoraError);
  return (error as DoraError).code;
}

describe("auth and limit interceptors", () => {
  it("lets Login through without metadata and without spending tokens", async () => {
    const { kv, limiter } = chain();
    expect((await kv.login({})).token).toBe("handled");
    expect(limiter.taken).toEqual([]);
  });

  it("answers BadRequest for a missing username or token key, Unauthenticated for a bad token, and spends nothing", async () => {
    const { kv, limiter, sessions } = chain();
    await sessions.put("7", "good-token", 60);
    expect(await codeOf(kv.readSecureMessage({}, { meta: { token: "good-token" } }))).toBe(Code.BadRequest);
    expect(await codeOf(kv.readSecureMessage({}, { meta: { username: "7" } }))).toBe(Code.BadRequest);
    expect(await codeOf(kv.readSecureMessage({}, { meta: { username: "7", token: "" } }))).toBe(Code.Unauthenticated);
    expect(await codeOf(kv.readSecureMessage({}, { meta: { username: "7", token: "good-tokeN" } }))).toBe(Code.Unauthenticated);
    expect(await codeOf(kv.readSecureMessage({}, { meta: { username: "8", token: "good-token" } }))).toBe(Code.Unauthenticated);
    expect(limiter.taken).toEqual([]);
  });

  it("spends the read or write bucket of the authenticated user", async () => {
    const { kv, limiter, sessions } = chain();
    await sessions.put("7", "good-token", 60);
    const meta = { username: "7", token: "good-token" };
    expect((await kv.readSecureMessage({}, { meta })).value).toBe("handled");
    expect((await kv.writeSecureMessage({}, { meta })).value).toBe("handled");
    expect(limiter.taken).toEqual(["read:7", "write:7"]);
  });

  it("hands the handler the authenticated caller, not whatever username it was sent", async () => {
    const { kv, sessions, seen } = chain();
    await sessions.put("7", "good-token", 60);
    await sessions.put("8", "other-token", 60);
    await kv.readSecureMessage({}, { meta: { username: "7", token: "good-token" } });
    await kv.writeSecureMessage({}, { meta: { username: "8", token: "other-token" } });
    expect(seen).toEqual(["7", "8"]);
  });

  it("maps the handler's domain errors to dora errors, and a store failure to Unavailable without its details", async () => {
    const { kv, sessions, state } = chain();
    await sessions.put("7", "good-token", 60);
    const meta = { username: "7", token: "good-token" };
    state.fail = () => new InvalidRequestError("key must not be empty");
    const bad = await kv.readSecureMessage({}, { meta }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: Code.BadRequest, rawMessage: "key must not be empty" });
    state.fail = () => new StoreUnavailableError("value store failed", { cause: new Error("ECONNREFUSED 127.0.0.1:6379") });
    const down = await kv.writeSecureMessage({}, { meta }).catch((e: unknown) => e);
    expect(down).toMatchObject({ code: Code.Unavailable, rawMessage: STORE_UNAVAILABLE_MESSAGE });
  });
});

describe("auth and limit interceptors with the admission deferred to the use case", () => {
  it("check the metadata and an empty token themselves, spend nothing, and hand reads and writes an admission, never a checked caller", async () => {
    const { kv, limiter, seen } = chain(true);
    expect(await codeOf(kv.writeSecureMessage({}, { meta: { token: "t" } }))).toBe(Code.BadRequest);
    expect(await codeOf(kv.writeSecureMessage({}, { meta: { username: "7", token: "" } }))).toBe(Code.Unauthenticated);
    // No session was checked: a handler that asks for its checked caller gets Internal, not a username.
    expect(await codeOf(kv.readSecureMessage({}, { meta: { username: "7", token: "not-checked" } }))).toBe(Code.Internal);
    expect(await codeOf(kv.writeSecureMessage({}, { meta: { username: "7", token: "not-checked" } }))).toBe(Code.Internal);
    expect(seen).toEqual([]);
    expect(limiter.taken).toEqual([]);
  });

  it("give the admission its bucket: a write's admission names the write bucket, a read's the read bucket", async () => {
    const sessions = new MemorySessionRepository();
    const limiter = new RecordingLimiter();
    const actors: unknown[] = [];
    const server = createServer({
      logger: silentLogger,
      interceptors: kvInterceptors({ authenticate: new AuthenticateUseCase(sessions), rateLimit: new RateLimitUseCase(new FormulaQuotaRepository(), limiter), logger: createPinoLogger("silent"), deferAdmission: true }),
    });
    registerKvService(server, {
      login: async () => ({ token: "" }),
      readSecureMessage: async (_req, context) => (actors.push(actorOf(context.values)), { value: "" }),
      writeSecureMessage: async (_req, context) => (actors.push(actorOf(context.values)), { value: "" }),
      async *watchSecureMessage(_req, context) {
        yield { value: callerOf(context.values) };
      },
    });
    const kv = createKvServiceClient(createInProcessClient(server));
    await kv.readSecureMessage({}, { meta: { username: "7", token: "t" } });
    await kv.writeSecureMessage({}, { meta: { username: "7", token: "t" } });
    expect(actors).toEqual([
      { username: "7", token: "t", kind: "read" },
      { username: "7", token: "t", kind: "write" },
    ]);
    expect(limiter.taken).toEqual([]);
  });

  it("still check a watch themselves as it opens", async () => {
    const { kv, limiter, sessions } = chain(true);
    await sessions.put("7", "good-token", 60);
    const values: string[] = [];
    for await (const message of kv.watchSecureMessage({}, { meta: { username: "7", token: "good-token" } })) values.push(message.value);
    expect(values).toEqual(["handled"]);
    expect(limiter.taken).toEqual(["read:7"]);
    expect(await codeOf((async () => {
      for await (const _ of kv.watchSecureMessage({}, { meta: { username: "7", token: "bad" } })) void _;
    })())).toBe(Code.Unauthenticated);
  });
});
