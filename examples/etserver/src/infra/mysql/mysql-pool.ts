import mysql from "mysql2/promise";

/** How etserver connects to MySQL (SPEC §6 `mysql`). */
export interface MysqlSettings {
  /** `mysql://user[:password]@host:port/database`; the database defaults to `dora_server`. */
  readonly url: string;
  /** Connections in the pool. Default 100. */
  readonly poolSize: number;
}

/** Database used when `mysql.url` names none. */
export const DEFAULT_DATABASE = "dora_server";
/** Connect timeout of every MySQL connection, in milliseconds. */
export const MYSQL_CONNECT_TIMEOUT_MS = 2000;

/** The parts of `mysql.url`. @throws TypeError naming `mysql.url` when it is not a mysql:// URL. */
export function parseMysqlUrl(url: string): { host: string; port: number; user: string; password: string; database: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`mysql.url: not a URL`);
  }
  if (parsed.protocol !== "mysql:") throw new TypeError(`mysql.url: expected mysql://…, got ${parsed.protocol}//`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || DEFAULT_DATABASE;
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) throw new TypeError(`mysql.url: database name ${JSON.stringify(database)} must be 1-64 of [A-Za-z0-9_$]`);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port === "" ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username) || "root",
    password: decodeURIComponent(parsed.password),
    database,
  };
}

/** A mysql2 pool on `settings.url`'s database, with a connect timeout so a down server fails calls instead of hanging them. */
export function createMysqlPool(settings: MysqlSettings): mysql.Pool {
  const { host, port, user, password, database } = parseMysqlUrl(settings.url);
  return mysql.createPool({
    host,
    port,
    user,
    password,
    database,
    connectionLimit: settings.poolSize,
    connectTimeout: MYSQL_CONNECT_TIMEOUT_MS,
    waitForConnections: true,
    queueLimit: 0,
    enableKeepAlive: true,
    charset: "utf8mb4",
  });
}
