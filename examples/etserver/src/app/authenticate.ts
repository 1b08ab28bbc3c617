import { NotAuthenticatedError } from "../domain/errors.js";
import { tokenMatches, type SessionRepository } from "../domain/session.js";
import { storeCall, type CallScope } from "./call-scope.js";

/** Checks that a token is the user's current session (SPEC §6). */
export class AuthenticateUseCase {
  constructor(private readonly sessions: SessionRepository) {}

  /**
   * Resolves when `token` is the current session of `username`.
   * @throws NotAuthenticatedError for an empty token, no session, an expired one or a wrong one; StoreUnavailableError.
   */
  async execute(username: string, token: string, scope: CallScope): Promise<void> {
    if (token === "") throw new NotAuthenticatedError("empty token");
    const stored = await storeCall(scope, "session lookup", () => this.sessions.tokenOf(username));
    if (!tokenMatches(token, stored)) throw new NotAuthenticatedError(stored === undefined ? "no session (log in first)" : "invalid token");
  }
}
