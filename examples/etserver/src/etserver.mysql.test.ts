import { migrate } from "./infra/mysql/migrate.js";
import { createMysqlPool } from "./infra/mysql/mysql-pool.js";
import { seedUsers } from "./infra/mysql/seed.js";
import { testConfig } from "./test-helpers/etserver.js";
import { defineKvRuleTests, type RuleSuiteStore } from "./test-helpers/kv-rules.js";
import { defineWatchRuleTests } from "./test-helpers/watch-rules.js";
import { deleteTestKeys, dropTestDatabase, SHARED_REDIS_URL, testNamespace } from "./test-helpers/stores.js";

const store: RuleSuiteStore = {
  bucketClock: "redis",
  label: "MySQL + Redis",
  async setup() {
    const ns = testNamespace();
    await migrate(ns.mysqlUrl);
    const pool = createMysqlPool({ url: ns.mysqlUrl, poolSize: 2 });
    await seedUsers(pool, { users: 30 });
    await pool.end();
    return {
      config: (overrides = {}) =>
        testConfig({
          store: "mysql",
          quota: { source: "mysql" },
          mysql: { url: ns.mysqlUrl, poolSize: 10 },
          redis: { url: SHARED_REDIS_URL, keyPrefix: `${ns.keyPrefix}${Math.random().toString(36).slice(2, 8)}:` },
          ...overrides,
        }),
      async cleanup() {
        await dropTestDatabase(ns.database);
        await deleteTestKeys(ns.keyPrefix);
      },
    };
  },
};

defineKvRuleTests(store);
defineWatchRuleTests(store);
