import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { defineDocTests } from "../../etserver/src/test-helpers/doc-commands.js";
import { startEtserver, type RunningServer } from "./test-helpers/processes.js";

// Every command docs/etclient.md shows, run in page order (see doc-commands.ts
// for the conventions): transcripts must match what the bins print.

const page = fs.readFileSync(new URL("../../../docs/etclient.md", import.meta.url), "utf8");
let server: RunningServer;
let cwd: string;

beforeAll(async () => {
  // The page's transcripts run against etserver with the memory store (users 1..N, password = username).
  server = await startEtserver();
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "etclient-docs-"));
  fs.writeFileSync(path.join(cwd, "etserver-test.yaml"), "server: { listenAddress: 127.0.0.1:0 }\nlog: { level: warn }\n");
});
afterAll(async () => {
  await server?.stop();
  if (cwd !== undefined) fs.rmSync(cwd, { recursive: true, force: true });
});

describe("docs/etclient.md", () => {
  defineDocTests(page, () => ({ cwd, env: { ETCLIENT_ADDRESS: server.address, DOC_ETSERVER_CONFIG: path.join(cwd, "etserver-test.yaml") } }));
});
