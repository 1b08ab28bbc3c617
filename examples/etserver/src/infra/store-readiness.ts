import type { Redis } from "ioredis";
import type { Pool } from "mysql2/promise";

/**
 * Telling a store that is set up wrong from one that is down (SPEC §6): a
 * store that answers but refuses the credentials, lacks the database or its
 * tables stops startup with one line naming the store and the fix; a store
 * that does not answer is only logged and retried, and calls get
 * `Unavailable` until it answers. Messages carry host:port, user and
 * database names, never a password or a URL.
 */

/** A store that answers but is configured wrongly; etserver prints the message and exits 1. */
export class StoreMisconfiguredError extends Error {
  override name = "StoreMisconfiguredError";
}

/** What one look at a store found. */
export type StoreProbe =
  | { readonly state: "ready" }
  /** It does not answer (yet): retry. `reason` is the driver's message. */
  | { readonly state: "down"; readonly reason: string }
  /** It answers but refuses us: `message` names the store and the fix. */
  | { readonly state: "misconfigured"; readonly message: string };

/** Where a MySQL store is, for messages. */
export interface MysqlTarget {
  /** `host:port`. */
  readonly address: string;
  readonly user: string;
  readonly database: string;
}

/** The tables `etserver migrate` creates, each probed at startup. */
const MYSQL_TABLES = ["account", "quota"] as const;

const MYSQL_ACCESS_DENIED = new Set(["ER_ACCESS_DENIED_ERROR", "ER_ACCESS_DENIED_NO_PASSWORD_ERROR", "ER_DBACCESS_DENIED_ERROR", "ER_TABLEACCESS_DENIED_ERROR"]);

/** Classifies a mysql2 error from a probe of `target`. */
export function classifyMysqlError(error: unknown, target: MysqlTarget, table: string): StoreProbe {
  const code = (error as { code?: unknown } | undefined)?.code;
  const where = `mysql at ${target.address}`;
  if (typeof code === "string" && MYSQL_ACCESS_DENIED.has(code)) {
    return { state: "misconfigured", message: `${where} refused user ${target.user} (access denied): fix the user and password in mysql.url or ETSERVER_MYSQL_URL` };
  }
  if (code === "ER_BAD_DB_ERROR") {
    return { state: "misconfigured", message: `${where} has no database ${target.database}: create it with 'etserver migrate' (or fix the database in mysql.url)` };
  }
  if (code === "ER_NO_SUCH_TABLE") {
    return { state: "misconfigured", message: `${where}: database ${target.database} has no table ${table}: create the tables with 'etserver migrate'` };
  }
  return { state: "down", reason: error instanceof Error ? error.message : String(error) };
}

/** Queries each table once; the first failure decides. */
export async function probeMysql(pool: Pool, target: MysqlTarget): Promise<StoreProbe> {
  for (const table of MYSQL_TABLES) {
    try {
      await pool.query(`SELECT 1 FROM \`${table}\` LIMIT 1`);
    } catch (error) {
      return classifyMysqlError(error, target, table);
    }
  }
  return { state: "ready" };
}

/** Where a Redis store is, for messages. */
export interface RedisTarget {
  /** `host:port`. */
  readonly address: string;
  /** The database index from the URL. */
  readonly db: number;
}

/** Classifies an error ioredis reported while connecting to `target`. */
export function classifyRedisError(message: string, target: RedisTarget): StoreProbe {
  const where = `redis at ${target.address}`;
  if (/\b(NOAUTH|WRONGPASS)\b|invalid password|invalid username-password/i.test(message)) {
    return { state: "misconfigured", message: `${where} refused the connection (authentication): fix the password in redis.url or ETSERVER_REDIS_URL` };
  }
  if (/DB index is out of range/i.test(message)) {
    return { state: "misconfigured", message: `${where} has no database ${target.db}: fix the database number in redis.url` };
  }
  return { state: "down", reason: message };
}

/**
 * Waits until `client` is ready or reports an error, at most `timeoutMs`.
 * ioredis keeps reconnecting by itself; this only looks.
 */
export function probeRedis(client: Redis, target: RedisTarget, timeoutMs: number): Promise<StoreProbe> {
  if (client.status === "ready") return Promise.resolve({ state: "ready" });
  return new Promise((resolve) => {
    const done = (probe: StoreProbe) => {
      clearTimeout(timer);
      client.off("ready", onReady);
      client.off("error", onError);
      resolve(probe);
    };
    const onReady = () => done({ state: "ready" });
    const onError = (error: Error) => done(classifyRedisError(error.message, target));
    const timer = setTimeout(() => done({ state: "down", reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    timer.unref();
    client.once("ready", onReady);
    client.once("error", onError);
  });
}

/** `host:port` and database of a `redis://` URL (defaults 127.0.0.1, 6379, 0). */
export function redisTarget(url: string): RedisTarget {
  const parsed = new URL(url);
  const db = Number(parsed.pathname.replace(/^\//, "") || "0");
  return { address: `${parsed.hostname || "127.0.0.1"}:${parsed.port || "6379"}`, db: Number.isInteger(db) ? db : 0 };
}
