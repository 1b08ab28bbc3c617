import { NotAuthenticatedError } from "../domain/errors.js";
import { tokenMatches, type SessionRepository } from "../domain/session.js";
import { storeCall, type CallScope } from "./call-scope.js";

/**
 * The one message of every token failure (SPEC §6): an empty token, no
 * session, an expired session and a wrong token all read the same, so a
 * caller cannot learn whether a user has a live session.
 */
export const INVALID_TOKEN_MESSAGE = "invalid or expired token";

/** Checks that a token is the user's current session (SPEC §6). */
export class AuthenticateUseCase {
  constructor(private readonly sessions: SessionRepository) {}

  /**
   * Resolves when `token` is the current session of `username`.
   * @throws NotAuthenticatedError ({@link INVALID_TOKEN_MESSAGE}) for an empty token, no session, an expired one or a wrong one; StoreUnavailableError.
   */
  async execute(username: string, token: string, scope: CallScope): Promise<void> {
    this.refuseEmpty(token);
    const stored = await storeCall(scope, "session lookup", () => this.sessions.tokenOf(username));
    if (!tokenMatches(token, stored)) throw new NotAuthenticatedError(INVALID_TOKEN_MESSAGE);
  }

  /**
   * The part of the check that needs no store: an empty token never matches
   * anything (SPEC §6), so it is refused before any store is asked.
   * @throws NotAuthenticatedError ({@link INVALID_TOKEN_MESSAGE}) for an empty token.
   */
  refuseEmpty(token: string): void {
    if (token === "") throw new NotAuthenticatedError(INVALID_TOKEN_MESSAGE);
  }
}
