import { Code, createInProcessClient, createServer, DoraError, silentLogger } from "@dora/runtime";
import { createKvServiceClient, registerKvService } from "@dora/tiger/kv/v1";
import { describe, expect, it } from "vitest";
import { AuthenticateUseCase } from "../app/authenticate.js";
import { RateLimitUseCase } from "../app/rate-limit.js";
import { FormulaQuotaRepository } from "../domain/quota.js";
import type { BucketParams, RateLimiter } from "../domain/ratelimiter.js";
import { MemorySessionRepository } from "../infra/memory/memory-session-repository.js";
import { createPinoLogger } from "../infra/pino-logger.js";
import { authInterceptor, limitInterceptor } from "./interceptors.js";

/** A limiter that records which buckets were spent. */
class RecordingLimiter implements RateLimiter {
  readonly taken: string[] = [];
  tryTake(key: string, _params: BucketParams): Promise<boolean> {
    this.taken.push(key);
    return Promise.resolve(true);
  }
}

/** The two interceptors in front of handlers that answer "handled", called in process. */
function chain() {
  const sessions = new MemorySessionRepository();
  const limiter = new RecordingLimiter();
  const logger = createPinoLogger("silent");
  const server = createServer({
    logger: silentLogger,
    interceptors: [authInterceptor(new AuthenticateUseCase(sessions), logger), limitInterceptor(new RateLimitUseCase(new FormulaQuotaRepository(), limiter), logger)],
  });
  registerKvService(server, {
    login: async () => ({ token: "handled" }),
    readSecureMessage: async () => ({ value: "handled" }),
    writeSecureMessage: async () => ({ value: "handled" }),
  });
  return { sessions, limiter, kv: createKvServiceClient(createInProcessClient(server)) };
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
});
