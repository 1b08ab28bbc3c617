import type { Pool, RowDataPacket } from "mysql2/promise";
import type { AccountRepository } from "../../domain/account.js";
import { hashPassword, SEED_SCRYPT_PARAMS, verifyPassword } from "../password-hash.js";

/**
 * Accounts in MySQL's `account` table, checked against salted scrypt hashes.
 * A missing user is checked against a dummy hash so that it costs about as
 * much as a wrong password.
 */
export class MysqlAccountRepository implements AccountRepository {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly pool: Pool) {}

  /** @inheritdoc */
  async checkPassword(username: string, password: string): Promise<boolean> {
    const [rows] = await this.pool.query<RowDataPacket[]>("SELECT password_hash FROM account WHERE username = ? LIMIT 1", [username]);
    const stored = rows[0]?.["password_hash"] as string | undefined;
    if (stored === undefined) {
      this.dummyHash ??= hashPassword("\u0000no such user", SEED_SCRYPT_PARAMS);
      await verifyPassword(password, await this.dummyHash);
      return false;
    }
    return verifyPassword(password, stored);
  }
}
