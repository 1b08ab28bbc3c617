import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import mysql from "mysql2/promise";

/** The machine's shared MariaDB (never stopped or dropped by tests). */
export const MYSQL_ROOT_URL = "mysql://root@127.0.0.1:3306";
/** The machine's shared Redis (never stopped or flushed by tests). */
export const SHARED_REDIS_URL = "redis://127.0.0.1:6379/0";

/** A throw-away database name and Redis key prefix, unique to this test process and call. */
export function testNamespace(): { database: string; mysqlUrl: string; keyPrefix: string } {
  const tag = `${process.pid}_${randomBytes(3).toString("hex")}`;
  const database = `dora_server_test_${tag}`;
  return { database, mysqlUrl: `${MYSQL_ROOT_URL}/${database}`, keyPrefix: `dora-test-${tag}:` };
}

/** Drops a test database (only names starting with dora_server_test_). */
export async function dropTestDatabase(database: string): Promise<void> {
  if (!database.startsWith("dora_server_test_")) throw new Error(`refusing to drop ${database}`);
  const connection = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root" });
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await connection.end();
  }
}

/** Deletes every key under a test prefix (only prefixes starting with dora-test-). */
export async function deleteTestKeys(keyPrefix: string, url = SHARED_REDIS_URL): Promise<void> {
  if (!keyPrefix.startsWith("dora-test-")) throw new Error(`refusing to delete ${keyPrefix}*`);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** A private redis-server on its own port, which a test may stop and start again. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  /** redis://127.0.0.1:PORT/0 */
  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  /** Starts redis-server (no persistence) and waits until it answers PING. */
  async start(): Promise<void> {
    this.child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Freezes this redis-server (SIGSTOP): connections stay open but nothing is answered, a "slow" store. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  /** Thaws a paused redis-server (SIGCONT). */
  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /** Kills this redis-server (only this one) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    });
  }
}
