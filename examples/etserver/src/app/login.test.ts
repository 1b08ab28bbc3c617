import { describe, expect, it } from "vitest";
import { LimitExceededError } from "../domain/errors.js";
import { FlexibleFailedLoginLimiter } from "../infra/failed-login-limiter.js";
import { MemorySessionRepository } from "../infra/memory/memory-session-repository.js";
import { SyntheticAccountRepository } from "../infra/memory/synthetic-account-repository.js";
import { AuthenticateUseCase } from "./authenticate.js";
import type { CallScope } from "./call-scope.js";
import { LoginUseCase } from "./login.js";

const scope: CallScope = { deadline: undefined, signal: new AbortController().signal };

function setup(limits = { maxFailuresPerUser: 3, maxFailuresPerPeer: 5, windowSeconds: 60 }) {
  const sessions = new MemorySessionRepository();
  const login = new LoginUseCase(new SyntheticAccountRepository(100), sessions, new FlexibleFailedLoginLimiter(limits), 60);
  return { sessions, login, auth: new AuthenticateUseCase(sessions) };
}

describe("LoginUseCase", () => {
  it("gives the same answer for a missing user and a wrong password, and a UUID v4 token on success", async () => {
    const { login } = setup();
    expect(await login.execute({ username: "101", password: "101", peerAddress: "a" }, scope)).toEqual({ ok: false });
    expect(await login.execute({ username: "7", password: "8", peerAddress: "a" }, scope)).toEqual({ ok: false });
    const ok = await login.execute({ username: "7", password: "7", peerAddress: "a" }, scope);
    expect(ok.ok && ok.token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("replaces the old token on a new login; a failed login keeps the session", async () => {
    const { login, auth } = setup();
    const first = await login.execute({ username: "5", password: "5", peerAddress: "a" }, scope);
    const second = await login.execute({ username: "5", password: "5", peerAddress: "a" }, scope);
    if (!first.ok || !second.ok) throw new Error("login failed");
    await expect(auth.execute("5", first.token, scope)).rejects.toThrow("invalid or expired token");
    await expect(login.execute({ username: "5", password: "bad", peerAddress: "a" }, scope)).resolves.toEqual({ ok: false });
    await expect(auth.execute("5", second.token, scope)).resolves.toBeUndefined();
  });

  it("refuses logins after too many failures per user, and per peer", async () => {
    const { login } = setup();
    for (let i = 0; i < 3; i++) await login.execute({ username: "9", password: "x", peerAddress: "p1" }, scope);
    await expect(login.execute({ username: "9", password: "9", peerAddress: "p2" }, scope)).rejects.toThrow(LimitExceededError);
    await expect(login.execute({ username: "10", password: "10", peerAddress: "p1" }, scope)).resolves.toMatchObject({ ok: true });
    // A success does not erase the user's failures: still refused within the window.
    await expect(login.execute({ username: "9", password: "9", peerAddress: "p4" }, scope)).rejects.toThrow(LimitExceededError);
    for (let i = 0; i < 5; i++) await login.execute({ username: String(20 + i), password: "x", peerAddress: "p3" }, scope);
    await expect(login.execute({ username: "30", password: "30", peerAddress: "p3" }, scope)).rejects.toThrow("too many failed logins");
  });
});
