import type { Pool, RowDataPacket } from "mysql2/promise";
import { formulaQuota } from "../../domain/quota.js";
import { hashPassword, SEED_SCRYPT_PARAMS } from "../password-hash.js";

/** Options of {@link seedUsers}. */
export interface SeedOptions {
  /** Creates users "1".."users". */
  readonly users: number;
  /** Rows per INSERT. Default 2000. */
  readonly batchSize?: number;
  /** Called after each batch with the number of users processed so far. */
  readonly onProgress?: (done: number) => void;
}

/** What {@link seedUsers} did. */
export interface SeedResult {
  /** Accounts inserted by this run. */
  readonly created: number;
  /** Accounts that already existed (INSERT IGNORE / skipped before hashing). */
  readonly existing: number;
  /** Wall time in milliseconds. */
  readonly elapsedMs: number;
}

/**
 * Creates users 1..N with password = username (scrypt N = 2^10) and quotas by
 * the formula, in bulk `INSERT IGNORE` batches: re-running adds nothing twice
 * and skips hashing for users that exist. Hashing runs on the libuv thread
 * pool (crypto.scrypt async), off the main thread, while the previous batch
 * is being inserted.
 */
export async function seedUsers(pool: Pool, options: SeedOptions): Promise<SeedResult> {
  const { users } = options;
  if (!Number.isInteger(users) || users < 1) throw new RangeError(`--users must be an integer >= 1, got ${users}`);
  const batchSize = options.batchSize ?? 2000;
  const started = performance.now();
  let created = 0;
  let done = 0;

  const prepare = async (first: number, last: number): Promise<{ names: string[]; hashes: [string, string][] }> => {
    const names: string[] = [];
    for (let i = first; i <= last; i++) names.push(String(i));
    const [rows] = await pool.query<RowDataPacket[]>("SELECT username FROM account WHERE username IN (?)", [names]);
    const existing = new Set(rows.map((row) => row["username"] as string));
    const missing = names.filter((name) => !existing.has(name));
    const hashes = await Promise.all(missing.map(async (name): Promise<[string, string]> => [name, await hashPassword(name, SEED_SCRYPT_PARAMS)]));
    return { names, hashes };
  };

  const write = async (batch: { names: string[]; hashes: [string, string][] }): Promise<void> => {
    if (batch.hashes.length > 0) {
      const [result] = await pool.query("INSERT IGNORE INTO account (username, password_hash) VALUES ?", [batch.hashes]);
      created += (result as { affectedRows: number }).affectedRows;
    }
    const quotas = batch.names.map((name) => {
      const quota = formulaQuota(name);
      return [name, quota.read, quota.write];
    });
    await pool.query("INSERT IGNORE INTO quota (username, read_quota, write_quota) VALUES ?", [quotas]);
    done += batch.names.length;
    options.onProgress?.(done);
  };

  // Pipeline: hash batch k+1 while batch k is written.
  let pending: Promise<void> = Promise.resolve();
  for (let first = 1; first <= users; first += batchSize) {
    const batch = await prepare(first, Math.min(users, first + batchSize - 1));
    await pending;
    pending = write(batch);
    pending.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
  }
  await pending;
  return { created, existing: users - created, elapsedMs: performance.now() - started };
}
