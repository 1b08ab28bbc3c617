import { randomUUID } from "node:crypto";
import type { AccountRepository } from "../domain/account.js";
import type { FailedLoginLimiter, LoginAttempt } from "../domain/ratelimiter.js";
import type { SessionRepository } from "../domain/session.js";
import { storeCall, type CallScope } from "./call-scope.js";

/** Outcome of a login: a token, or the one answer for a wrong username or password. */
export type LoginOutcome = { readonly ok: true; readonly token: string } | { readonly ok: false };

/**
 * Login (SPEC §6): refused while the username or the peer has too many
 * recent failures; a wrong username and a wrong password look the same; on
 * success a UUID v4 token becomes the user's session for `sessionTtlSeconds`,
 * replacing the previous one. A failed or refused login never touches the
 * session.
 *
 * The limiter reserves the attempt before the password is tested and the
 * attempt is settled by its outcome, so the check, the test and the count
 * cannot race: a burst of attempts is limited like the same attempts made one
 * after another.
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
    const reserving = this.failedLogins.begin(username, peerAddress, scope.signal);
    let attempt: LoginAttempt;
    try {
      attempt = await storeCall(scope, "login limiter", () => reserving);
    } catch (error) {
      // An attempt admitted after this call gave up must still be settled, or its point would be held.
      reserving.then(
        (late) => late.abandoned(),
        () => undefined,
      );
      throw error;
    }
    let ok: boolean;
    try {
      ok = await storeCall(scope, "account lookup", () => this.accounts.checkPassword(username, password));
    } catch (error) {
      attempt.abandoned();
      throw error;
    }
    if (!ok) {
      attempt.failed();
      return { ok: false };
    }
    const token = randomUUID();
    try {
      await storeCall(scope, "session store", () => this.sessions.put(username, token, this.sessionTtlSeconds));
    } catch (error) {
      attempt.abandoned();
      throw error;
    }
    attempt.succeeded();
    return { ok: true, token };
  }
}
