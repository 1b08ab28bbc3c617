import { randomBytes } from "node:crypto";
import type { Pool, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { formulaQuota } from "../../domain/quota.js";
import { fastVerifier, SALT_BYTES } from "../password-hash.js";

/** Rows per INSERT statement by default. */
export const DEFAULT_SEED_BATCH_SIZE = 5000;
/** INSERT statements in flight at once by default (each on its own pooled connection). */
export const DEFAULT_SEED_CONNECTIONS = 4;

/** Options of {@link seedUsers}. */
export interface SeedOptions {
  /** Creates users "1".."users". */
  readonly users: number;
  /** Rows per INSERT. Default {@link DEFAULT_SEED_BATCH_SIZE}. */
  readonly batchSize?: number;
  /** Batches written at once, over as many pooled connections. Default {@link DEFAULT_SEED_CONNECTIONS}. */
  readonly connections?: number;
  /** Called after each batch with the number of users processed so far. */
  readonly onProgress?: (done: number) => void;
}

/** What {@link seedUsers} did. */
export interface SeedResult {
  /** Accounts inserted by this run. */
  readonly created: number;
  /** Accounts that already existed (left as they were by INSERT IGNORE). */
  readonly existing: number;
  /** Wall time in milliseconds. */
  readonly elapsedMs: number;
}

/**
 * Creates the synthetic users 1..N of SPEC §6: password = username, stored
 * as a fast salted verifier (`sha256$salt$hash`, upgraded to scrypt on the
 * first successful login), and quotas by the formula. Rows go in bulk:
 * multi-row `INSERT IGNORE` statements of `batchSize` rows, `connections` of
 * them at once, so re-running adds nothing twice and leaves existing
 * accounts (and any upgraded hash) alone; a batch whose rows all exist is
 * skipped after one count. This is the only writer of the
 * fast verifier form.
 */
export async function seedUsers(pool: Pool, options: SeedOptions): Promise<SeedResult> {
  const { users } = options;
  if (!Number.isInteger(users) || users < 1) throw new RangeError(`--users must be an integer >= 1, got ${users}`);
  const batchSize = options.batchSize ?? DEFAULT_SEED_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
  const connections = options.connections ?? DEFAULT_SEED_CONNECTIONS;
  if (!Number.isInteger(connections) || connections < 1) throw new RangeError(`connections must be an integer >= 1, got ${connections}`);
  const started = performance.now();
  const batches = Math.ceil(users / batchSize);
  let nextBatch = 0;
  let created = 0;
  let done = 0;
  let failed = false;

  const writeBatch = async (first: number, last: number): Promise<void> => {
    const count = last - first + 1;
    const names: string[] = new Array(count);
    for (let i = 0; i < count; i++) names[i] = String(first + i);
    // A batch whose rows all exist is skipped: far cheaper for InnoDB than INSERT IGNORE meeting a duplicate per row.
    const [present] = await pool.query<RowDataPacket[]>(
      "SELECT (SELECT COUNT(*) FROM account WHERE username IN (?)) AS accounts, (SELECT COUNT(*) FROM quota WHERE username IN (?)) AS quotas",
      [names, names],
    );
    if (Number(present[0]?.["accounts"]) < count) {
      const salts = randomBytes(SALT_BYTES * count);
      const accounts = names.map((name, i): [string, string] => [name, fastVerifier(name, salts.subarray(i * SALT_BYTES, (i + 1) * SALT_BYTES))]);
      const [inserted] = await pool.query<ResultSetHeader>("INSERT IGNORE INTO account (username, password_hash) VALUES ?", [accounts]);
      created += inserted.affectedRows;
    }
    if (Number(present[0]?.["quotas"]) < count) {
      const quotas = names.map((name): [string, number, number] => {
        const quota = formulaQuota(name);
        return [name, quota.read, quota.write];
      });
      await pool.query("INSERT IGNORE INTO quota (username, read_quota, write_quota) VALUES ?", [quotas]);
    }
    done += count;
    options.onProgress?.(done);
  };

  const worker = async (): Promise<void> => {
    while (!failed && nextBatch < batches) {
      const batch = nextBatch++;
      const first = batch * batchSize + 1;
      try {
        await writeBatch(first, Math.min(users, first + batchSize - 1));
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(connections, batches) }, worker));
  return { created, existing: users - created, elapsedMs: performance.now() - started };
}
