/** Accounts: who may log in. */
export interface AccountRepository {
  /**
   * True when `username` exists and `password` is its password. A missing
   * user and a wrong password both give false (no user enumeration), and the
   * check takes comparable time for both.
   */
  checkPassword(username: string, password: string): Promise<boolean>;
}
