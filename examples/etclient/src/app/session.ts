/**
 * The login state of one etclient process (SPEC §7): composed commands share
 * it, so `login,read` reads with the fresh token. Before a login the token is
 * empty, and read/write still send it, so the server answers
 * `Unauthenticated`.
 */
export class Session {
  private tokenValue = "";

  /** @param username sent as the `username` metadata of every read and write. */
  constructor(readonly username: string) {}

  /** True once a login in this process succeeded. */
  get loggedIn(): boolean {
    return this.tokenValue !== "";
  }

  /** Stores the token of a successful login (replacing any earlier one). */
  establish(token: string): void {
    this.tokenValue = token;
  }

  /** The metadata read and write send: `username` and `token` (empty before a login). */
  meta(): Record<string, string> {
    return { username: this.username, token: this.tokenValue };
  }
}
