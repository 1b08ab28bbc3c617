import { defineKvRuleTests } from "./test-helpers/kv-rules.js";
import { testConfig } from "./test-helpers/etserver.js";

defineKvRuleTests({
  bucketClock: "etserver",
  label: "memory",
  setup: () =>
    Promise.resolve({
      config: (overrides = {}) => testConfig({ store: "memory", memory: { users: 30 }, ...overrides }),
      cleanup: () => Promise.resolve(),
    }),
});
