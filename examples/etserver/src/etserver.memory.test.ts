import { defineKvRuleTests, type RuleSuiteStore } from "./test-helpers/kv-rules.js";
import { defineWatchRuleTests } from "./test-helpers/watch-rules.js";
import { testConfig } from "./test-helpers/etserver.js";

const store: RuleSuiteStore = {
  bucketClock: "etserver",
  label: "memory",
  setup: () =>
    Promise.resolve({
      config: (overrides = {}) => testConfig({ store: "memory", memory: { users: 30 }, ...overrides }),
      cleanup: () => Promise.resolve(),
    }),
};

defineKvRuleTests(store);
defineWatchRuleTests(store);
