import mysql from "mysql2/promise";
import { MYSQL_CONNECT_TIMEOUT_MS, parseMysqlUrl } from "./mysql-pool.js";

/** The schema of SPEC §6. Every statement is idempotent. */
const TABLES = [
  `CREATE TABLE IF NOT EXISTS account (
     id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     username VARCHAR(128) NOT NULL,
     password_hash VARCHAR(255) NOT NULL,
     UNIQUE KEY uk_account_username (username)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  `CREATE TABLE IF NOT EXISTS quota (
     id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     username VARCHAR(128) NOT NULL,
     read_quota INT UNSIGNED NOT NULL,
     write_quota INT UNSIGNED NOT NULL,
     UNIQUE KEY uk_quota_username (username)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
];

/**
 * Creates the database named by `url` if it is missing, then the tables
 * `account` and `quota`. Running it again changes nothing.
 * @returns the database name.
 */
export async function migrate(url: string): Promise<string> {
  const { host, port, user, password, database } = parseMysqlUrl(url);
  const connection = await mysql.createConnection({ host, port, user, password, connectTimeout: MYSQL_CONNECT_TIMEOUT_MS, multipleStatements: false });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await connection.query(`USE \`${database}\``);
    for (const statement of TABLES) await connection.query(statement);
    return database;
  } finally {
    await connection.end();
  }
}
