import type { Pool, RowDataPacket } from "mysql2/promise";
import { formulaQuota, type Quota, type QuotaRepository } from "../../domain/quota.js";

/**
 * Quotas from MySQL's `quota` table (read_quota, write_quota). A user
 * without a row gets the formula, like a seeded one.
 */
export class MysqlQuotaRepository implements QuotaRepository {
  constructor(private readonly pool: Pool) {}

  /** @inheritdoc */
  async quotaOf(username: string): Promise<Quota> {
    const [rows] = await this.pool.query<RowDataPacket[]>("SELECT read_quota, write_quota FROM quota WHERE username = ? LIMIT 1", [username]);
    const row = rows[0];
    if (row === undefined) return formulaQuota(username);
    return { read: Math.max(1, Number(row["read_quota"])), write: Math.max(1, Number(row["write_quota"])) };
  }

  /** @inheritdoc Every quota here needs a query. */
  knownQuotaOf(): undefined {
    return undefined;
  }
}
