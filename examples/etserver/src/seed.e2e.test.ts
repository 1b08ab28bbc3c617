import type { RowDataPacket } from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { runEtserver, startInProcess, testConfig } from "./test-helpers/etserver.js";
import { deleteTestKeys, dropTestDatabase, SHARED_REDIS_URL, testNamespace } from "./test-helpers/stores.js";

const ns = testNamespace();
afterAll(async () => {
  await dropTestDatabase(ns.database);
  await deleteTestKeys(ns.keyPrefix);
});

describe("etserver seed through the bin (SPEC §6)", () => {
  it("seeds users 1..N in bulk with a rows/s summary, every one of them can log in (first, last, a sample), and a second run adds nothing", async () => {
    const env = { ETSERVER_MYSQL_URL: ns.mysqlUrl };
    expect((await runEtserver(["migrate"], { env })).code).toBe(0);
    const users = 12_001;
    // stderr is a pipe here: no bar, no cursor codes (a progress line only every 5 s).
    const seeded = await runEtserver(["seed", "--users", String(users), "--batch-size", "1000"], { env });
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toMatch(/^seeded users 1\.\.12001 in \d+\.\d s \(\d+ rows\/s\): 12001 created, 0 already existed\n$/);
    expect(seeded.stderr).not.toMatch(/\r|\u001b\[/);

    const pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 1 });
    try {
      const [rows] = await pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n, MIN(password_hash LIKE 'sha256$%') AS fast FROM account");
      expect(rows[0]).toMatchObject({ n: users, fast: 1 });
      const [quota] = await pool.query<RowDataPacket[]>("SELECT read_quota, write_quota FROM quota WHERE username = '12001'");
      expect(quota[0]).toMatchObject({ read_quota: 36006, write_quota: 12004 });

      const server = await startInProcess(testConfig({ store: "mysql", quota: { source: "mysql" }, mysql: { url: ns.mysqlUrl, poolSize: 4 }, redis: { url: SHARED_REDIS_URL, keyPrefix: ns.keyPrefix } }));
      try {
        for (const user of ["1", "2", "999", "1000", "1001", "6000", "11999", "12000", "12001"]) {
          const response = await server.kv.login({ username: user, password: user });
          expect(response.status?.code, `login of ${user}`).toBe(0);
          expect(response.token).not.toBe("");
        }
        expect((await server.kv.login({ username: "12002", password: "12002" })).status?.code).toBe(1000);
        expect((await server.kv.login({ username: "7", password: "8" })).status?.code).toBe(1000);
      } finally {
        await server.close();
      }
      const [upgraded] = await pool.query<RowDataPacket[]>("SELECT username FROM account WHERE password_hash LIKE 'scrypt$32768$8$1$%' ORDER BY CAST(username AS UNSIGNED)");
      expect(upgraded.map((row) => row["username"])).toEqual(["1", "2", "999", "1000", "1001", "6000", "11999", "12000", "12001"]);
    } finally {
      await pool.end();
    }

    const again = await runEtserver(["seed", "--users", String(users)], { env });
    expect(again.stdout).toMatch(/: 0 created, 12001 already existed\n$/);
  });
});
