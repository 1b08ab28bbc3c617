import { randomUUID } from "node:crypto";
import type { AccountRepository } from "../domain/account.js";
import type { FailedLoginLimiter } from "../domain/ratelimiter.js";
import type { SessionRepository } from "../domain/session.js";
import { storeCall, type CallScope } from "./call-scope.js";

/** Outcome of a login: a token, or the one answer for a wrong username or password. */
export type LoginOutcome = { readonly ok: true; readonly token: string } | { readonly ok: false };

/**
 * Login (SPEC §6): refused while the username or the peer has too many
 * recent failures; a wrong username and a wrong password look the same; on
 * success a UUID v4 token becomes the user's session for `sessionTtlSeconds`,
 * replacing the previous one. A failed login never touches the session.
 */
export class LoginUseCase {
  constructor(
    private readonly accounts: AccountRepository,
    private readonly sessions: SessionRepository,
    private readonly failedLogins: FailedLoginLimiter,
    private readonly sessionTtlSeconds: number,
  ) {}

  /** Checks the credentials and opens a session. @throws LimitExceededError, StoreUnavailableError */
  async execute(input: { username: string; password: string; peerAddress: string }, scope: CallScope): Promise<LoginOutcome> {
    const { username, password, peerAddress } = input;
    await storeCall(scope, "login limiter", () => this.failedLogins.ensureAllowed(username, peerAddress));
    const ok = await storeCall(scope, "account lookup", () => this.accounts.checkPassword(username, password));
    if (!ok) {
      await storeCall(scope, "login limiter", () => this.failedLogins.recordFailure(username, peerAddress));
      return { ok: false };
    }
    const token = randomUUID();
    await storeCall(scope, "session store", () => this.sessions.put(username, token, this.sessionTtlSeconds));
    await storeCall(scope, "login limiter", () => this.failedLogins.recordSuccess(username));
    return { ok: true, token };
  }
}
