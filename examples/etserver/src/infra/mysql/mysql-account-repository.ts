import type { Pool, RowDataPacket } from "mysql2/promise";
import type { AccountRepository } from "../../domain/account.js";
import { hashPassword, needsUpgrade, verifyPassword } from "../password-hash.js";

/**
 * Accounts in MySQL's `account` table (SPEC §6), checked against the stored
 * salted hash with the parameters stored in it. A missing user is checked
 * against a dummy regular scrypt hash, so that it costs what a wrong
 * password of a regular account costs. A successful login on a seeded
 * account (fast verifier) upgrades its row to a regular scrypt hash.
 */
export class MysqlAccountRepository implements AccountRepository {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly pool: Pool) {}

  /** @inheritdoc */
  async checkPassword(username: string, password: string): Promise<boolean> {
    const [rows] = await this.pool.query<RowDataPacket[]>("SELECT password_hash FROM account WHERE username = ? LIMIT 1", [username]);
    const stored = rows[0]?.["password_hash"] as string | undefined;
    if (stored === undefined) {
      this.dummyHash ??= hashPassword("\u0000no such user");
      await verifyPassword(password, await this.dummyHash);
      return false;
    }
    const ok = await verifyPassword(password, stored);
    if (ok && needsUpgrade(stored)) await this.upgrade(username, password, stored);
    return ok;
  }

  /**
   * Replaces `stored` with a regular scrypt hash of `password`, only if the
   * row still holds `stored` (a concurrent upgrade or a password change
   * wins). A failure leaves the old form, which still verifies; the next
   * successful login tries again.
   */
  private async upgrade(username: string, password: string, stored: string): Promise<void> {
    try {
      const hash = await hashPassword(password);
      await this.pool.query("UPDATE account SET password_hash = ? WHERE username = ? AND password_hash = ?", [hash, username, stored]);
    } catch {
      // Not fatal: see above.
    }
  }
}
