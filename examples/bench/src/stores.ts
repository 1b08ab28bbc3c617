import { Redis, ReplyError } from "ioredis";
import mysql from "mysql2/promise";

/** Where the MySQL-store system keeps its data: the machine's MySQL and Redis, its own database and key prefix. */
export interface StoreSettings {
  /** `mysql://USER[:PASSWORD]@HOST:PORT/DATABASE` of etserver's mysql.url; the database is the bench's own. */
  mysqlUrl: string;
  /** `redis://…` of etserver's redis.url. */
  redisUrl: string;
  /** Prefix of every Redis key etserver writes there (redis.keyPrefix); deleted at the start and end of a bench run. */
  redisPrefix: string;
}

export const DEFAULT_STORES: StoreSettings = {
  mysqlUrl: "mysql://root@127.0.0.1:3306/dora_bench",
  redisUrl: "redis://127.0.0.1:6379/0",
  redisPrefix: "dora-bench:",
};

/** A system that cannot run here (e.g. a store it needs does not answer): reported as skipped, not failed. */
export class SkipSystem extends Error {}

/** Longest wait for a store to answer a probe or a command, ms. */
const STORE_TIMEOUT_MS = 3000;

/** Error codes that mean nothing answered at that address (as opposed to an answer such as "access denied"). */
const NO_ANSWER_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);

/** `host:port` of a URL, for messages (never its user or password). */
export function urlAddress(url: string, defaultPort: number): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port === "" ? defaultPort : parsed.port}`;
}

/** The database named by a mysql:// URL's path. */
export function mysqlDatabase(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
  if (name === "" || name.includes("/")) throw new Error("the MySQL URL must name one database (mysql://USER@HOST:PORT/DATABASE)");
  return name;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`;
}

/**
 * Checks that MySQL answers at the URL's address (connects to the server, not
 * the database, which `etserver migrate` creates). Throws SkipSystem when
 * nothing answers; an answer that refuses (e.g. access denied) is thrown as is.
 */
export async function probeMysql(url: string): Promise<void> {
  const parsed = new URL(url);
  const where = `MySQL at ${urlAddress(url, 3306)}`;
  let connection: mysql.Connection | undefined;
  try {
    connection = await mysql.createConnection({
      host: parsed.hostname,
      port: parsed.port === "" ? 3306 : Number(parsed.port),
      user: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      connectTimeout: STORE_TIMEOUT_MS,
    });
    await connection.query("SELECT 1");
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && NO_ANSWER_CODES.has(code)) throw new SkipSystem(`${where} did not answer (${code})`);
    throw new Error(`${where}: ${describe(error)}`);
  } finally {
    await connection?.end().catch(() => undefined);
  }
}

/** A Redis client that fails a command instead of retrying forever. */
function redisClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectTimeout: STORE_TIMEOUT_MS,
    commandTimeout: STORE_TIMEOUT_MS * 10,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
}

/**
 * Checks that Redis answers PING at the URL. Throws SkipSystem when nothing answers (the
 * connection fails or times out); an answer that refuses (e.g. NOAUTH) is thrown as is.
 */
export async function probeRedis(url: string): Promise<void> {
  const where = `Redis at ${urlAddress(url, 6379)}`;
  const redis = redisClient(url);
  let connectionError: unknown;
  redis.on("error", (error: unknown) => (connectionError = error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    if (error instanceof ReplyError) throw new Error(`${where}: ${describe(error)}`);
    const cause = connectionError ?? error;
    throw new SkipSystem(`${where} did not answer (${errorCode(cause) ?? describe(cause)})`);
  } finally {
    redis.disconnect();
  }
}

/** `text` with Redis glob characters escaped, so a MATCH pattern takes it literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]^-]/g, (c) => `\\${c}`);
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never FLUSHDB); returns how many. */
export async function deleteKeysWithPrefix(url: string, prefix: string): Promise<number> {
  if (prefix === "") throw new Error("refusing to delete every key: the Redis key prefix is empty");
  const redis = redisClient(url);
  redis.on("error", () => undefined);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${escapeGlob(prefix)}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return deleted;
}
