import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { defineDocTests } from "./test-helpers/doc-commands.js";
import { deleteTestKeys, dropTestDatabase, testNamespace } from "./test-helpers/stores.js";

// Every command docs/etserver.md shows, run in page order (see
// doc-commands.ts for the conventions). The page's MySQL database is replaced
// by this test's own (a doc-test directive in the page says so), and every
// etserver gets a config with a free port and a test Redis key prefix.

const page = fs.readFileSync(new URL("../../../docs/etserver.md", import.meta.url), "utf8");
const ns = testNamespace();
let cwd: string;

beforeAll(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "etserver-docs-"));
  fs.writeFileSync(path.join(cwd, "etserver-test.yaml"), `server: { listenAddress: 127.0.0.1:0 }\nredis: { keyPrefix: "${ns.keyPrefix}" }\nlog: { level: warn }\n`);
});
afterAll(async () => {
  await dropTestDatabase(ns.database);
  await deleteTestKeys(ns.keyPrefix);
  if (cwd !== undefined) fs.rmSync(cwd, { recursive: true, force: true });
});

describe("docs/etserver.md", () => {
  defineDocTests(page, () => ({ cwd, env: { DOC_TEST_DATABASE: ns.database, DOC_ETSERVER_CONFIG: path.join(cwd, "etserver-test.yaml") } }));
});
